# ReelRec: `make run` builds the warehouse from the default data, `make test` checks it
# (minutes), `make test-big` runs the heavy tier (the 10M-row build, long property tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The report's browser test drives Debian's Chromium; as root, or through sudo otherwise.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# dbt must never phone home.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: run test test-big test-spark lint bench bench-ingest clean

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

run: $(INSTALLED)
	$(BIN)/reelrec run

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

# Every test but those marked `big` (pyproject's addopts deselect them).
test: lint $(CHROMIUM)
	$(BIN)/pytest

# The heavy tier: 10M rows loaded and built under a memory ceiling, and every property test
# at ten times the examples `make test` tries.
test-big: $(INSTALLED)
	$(BIN)/pytest -m "big or hypothesis" --hypothesis-profile=thorough

# The dbt project on Apache Spark (`reelrec run --engine spark`) against DuckDB: installs the
# spark extra (pyspark, dbt-spark) and Java 17 if `java` is missing, then runs the spark tests.
SPARK_INSTALLED := $(VENV)/.spark-installed

$(SPARK_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	@touch $@

test-spark: $(SPARK_INSTALLED)
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
		openjdk-17-jre-headless; }
	$(BIN)/pytest -m spark

# Benchmarks with the peer libraries (optional extra); `make bench SIZES=100k` for one size.
SIZES ?= 100k,1m,10m
bench: $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python scripts/bench.py --sizes $(SIZES) --out bench

bench-ingest: $(INSTALLED)
	$(BIN)/python scripts/bench_ingest.py --repeat 7

clean:
	rm -rf warehouse.duckdb warehouse.duckdb.* dbt_project/target dbt_project/target-* dbt_project/logs spark-run
