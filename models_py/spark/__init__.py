"""ReelRec on Apache Spark: the local session, loading the raw tables, and the dbt-spark build.

Needs the optional `spark` extra (pyspark, dbt-spark) and Java 17; nothing here is imported by the
DuckDB path.
"""
