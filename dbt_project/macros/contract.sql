{#-
    The data contract, defined once. dbt models and tests call these macros; Python reads the
    same lists by rendering this file (models_py/contract.py), so a column or a rule is added
    here and nowhere else.
-#}

{#- The input columns, as the report's data1.xlsx / data2.xlsx name them; raw tables keep them. -#}
{% macro raw_columns() -%}
    {{ return([
        'Song', 'use_count', 'Name', 'Followers', 'Posts', 'Bio', 'URL', 'ER',
        'title', 'release', 'artist_name', 'year',
        'Delta', 'Curr_ER', 'Comments', 'Likes', 'Time',
    ]) }}
{%- endmacro %}

{#- A file without these cannot say which influencer used which song. -#}
{% macro required_columns() -%}
    {{ return(['URL', 'Song']) }}
{%- endmacro %}

{#- Excel's limit on a cell's characters. A longer value comes from no spreadsheet: the loader
    keeps its first max_cell_chars() + 1 characters and the row is out_of_range. -#}
{% macro max_cell_chars() -%}
    {{ return(32767) }}
{%- endmacro %}

{#- Every cleaning rule, in precedence order: a rejected row carries the first it fails. -#}
{% macro cleaning_rules() -%}
    {{ return([
        'missing_url_or_song',
        'formula_without_value',
        'unparseable_number',
        'out_of_range',
        'posts_over_max',
        'er_over_max',
        'use_count_over_posts',
        'duplicate_url_song',
    ]) }}
{%- endmacro %}
