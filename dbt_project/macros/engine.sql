{#-
    SQL that DuckDB and Spark write differently, behind dbt's adapter.dispatch:
    `default__` is DuckDB's SQL (as the project had it), `spark__` Spark's.
    Models and the other macros call only these, so adding an engine means new
    implementations here, not new models. Patterns are passed bare (no quotes):
    each engine quotes them itself, because a backslash in a Spark string
    literal is an escape ('\s' is "s") and in DuckDB's it is not.
-#}

{#- A regex as a string literal of the engine. -#}
{% macro regex_literal(pattern) -%}
    {{ return(adapter.dispatch('regex_literal')(pattern)) }}
{%- endmacro %}

{% macro default__regex_literal(pattern) -%}
    '{{ pattern }}'
{%- endmacro %}

{% macro spark__regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") }}'
{%- endmacro %}

{#- True when the whole text matches (NULL for NULL); `flags` 'i': any case. -#}
{% macro regex_full_match(text, pattern, flags='') -%}
    {{ return(adapter.dispatch('regex_full_match')(text, pattern, flags)) }}
{%- endmacro %}

{% macro default__regex_full_match(text, pattern, flags) -%}
    regexp_full_match({{ text }}, {{ regex_literal(pattern) }}
        {%- if flags %}, '{{ flags }}'{% endif %})
{%- endmacro %}

{#- rlike matches anywhere in the text: anchored here. -#}
{% macro spark__regex_full_match(text, pattern, flags) -%}
    ({{ text }} rlike {{ regex_literal(
        ('(?' ~ flags ~ ')' if flags else '') ~ '^(?:' ~ pattern ~ ')$'
    ) }})
{%- endmacro %}

{#- The whole first match (DuckDB's default group is 0, Spark's 1). -#}
{% macro regex_first_match(text, pattern) -%}
    {{ return(adapter.dispatch('regex_first_match')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_first_match(text, pattern) -%}
    regexp_extract({{ text }}, {{ regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regex_first_match(text, pattern) -%}
    regexp_extract({{ text }}, {{ regex_literal(pattern) }}, 0)
{%- endmacro %}

{#- Replace a pattern that can match once (anchored, or ending in .*$):
    DuckDB replaces the first match, Spark every match. `replacement` refers
    to groups as \1. -#}
{% macro regex_replace_once(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_once')(
        text, pattern, replacement
    )) }}
{%- endmacro %}

{% macro default__regex_replace_once(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ regex_literal(pattern) }}, '{{ replacement }}')
{%- endmacro %}

{% macro spark__regex_replace_once(text, pattern, replacement) -%}
    regexp_replace(
        {{ text }},
        {{ regex_literal(pattern) }},
        '{{ modules.re.sub("\\\\([0-9])", "$\\1", replacement) }}'
    )
{%- endmacro %}

{#- The text with any trailing slashes replaced by one. Spark's replace-all
    would also match the empty string after them and add a second slash. -#}
{% macro with_one_trailing_slash(text) -%}
    {{ return(adapter.dispatch('with_one_trailing_slash')(text)) }}
{%- endmacro %}

{% macro default__with_one_trailing_slash(text) -%}
    regexp_replace({{ text }}, '/*$', '/')
{%- endmacro %}

{% macro spark__with_one_trailing_slash(text) -%}
    concat(regexp_replace({{ text }}, '/+$', ''), '/')
{%- endmacro %}

{#- A struct from (name, SQL) pairs. -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    {
    {%- for name, value in fields %}
        '{{ name }}': {{ value }}{{ "," if not loop.last }}
    {%- endfor %}
    }
{%- endmacro %}

{% macro spark__struct_of(fields) -%}
    named_struct(
    {%- for name, value in fields %}
        '{{ name }}', {{ value }}{{ "," if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{#- The text without its last `n` characters. -#}
{% macro drop_last_chars(text, n) -%}
    {{ return(adapter.dispatch('drop_last_chars')(text, n)) }}
{%- endmacro %}

{% macro default__drop_last_chars(text, n) -%}
    left({{ text }}, -{{ n }})
{%- endmacro %}

{% macro spark__drop_last_chars(text, n) -%}
    substring({{ text }}, 1, length({{ text }}) - {{ n }})
{%- endmacro %}

{#- Characters `first` (1-based) to the one `n_after` before the end. -#}
{% macro text_slice(text, first, n_after) -%}
    {{ return(adapter.dispatch('text_slice')(text, first, n_after)) }}
{%- endmacro %}

{% macro default__text_slice(text, first, n_after) -%}
    {{ text }}[{{ first }}:-{{ n_after + 1 }}]
{%- endmacro %}

{% macro spark__text_slice(text, first, n_after) -%}
    substring({{ text }}, {{ first }}, length({{ text }}) - {{ first + n_after - 1 }})
{%- endmacro %}

{#- 1-based position of `needle` in `haystack`, 0 when absent. -#}
{% macro text_position(haystack, needle) -%}
    {{ return(adapter.dispatch('text_position')(haystack, needle)) }}
{%- endmacro %}

{% macro default__text_position(haystack, needle) -%}
    strpos({{ haystack }}, {{ needle }})
{%- endmacro %}

{% macro spark__text_position(haystack, needle) -%}
    instr({{ haystack }}, {{ needle }})
{%- endmacro %}

{#- Bytes of the text in UTF-8. -#}
{% macro byte_length(text) -%}
    {{ return(adapter.dispatch('byte_length')(text)) }}
{%- endmacro %}

{% macro default__byte_length(text) -%}
    strlen({{ text }})
{%- endmacro %}

{% macro spark__byte_length(text) -%}
    octet_length({{ text }})
{%- endmacro %}

{#- Neither infinite nor NaN; NULL counts as finite. -#}
{% macro is_finite(number) -%}
    {{ return(adapter.dispatch('is_finite')(number)) }}
{%- endmacro %}

{% macro default__is_finite(number) -%}
    coalesce(isfinite({{ number }}), true)
{%- endmacro %}

{% macro spark__is_finite(number) -%}
    coalesce(
        not isnan({{ number }})
            and abs({{ number }}) < cast('Infinity' as double),
        true
    )
{%- endmacro %}

{#- The lower 64 bits of the md5 of a text, as an unsigned integer: DuckDB's
    md5_number_lower, i.e. digest bytes 9..16 read little-endian. -#}
{% macro md5_lower_64(key) -%}
    {{ return(adapter.dispatch('md5_lower_64')(key)) }}
{%- endmacro %}

{% macro default__md5_lower_64(key) -%}
    md5_number_lower({{ key }})
{%- endmacro %}

{% macro spark__md5_lower_64(key) -%}
    cast(conv(concat(
        {%- for byte in range(15, 7, -1) %}
        substr(md5({{ key }}), {{ 2 * byte + 1 }}, 2){{ "," if not loop.last }}
        {%- endfor %}
    ), 16, 10) as decimal(20, 0))
{%- endmacro %}

{#- The value of `column` on the row where `order_key` is smallest, skipping
    NULL values. -#}
{% macro value_at_min(column, order_key) -%}
    {{ return(adapter.dispatch('value_at_min')(column, order_key)) }}
{%- endmacro %}

{% macro default__value_at_min(column, order_key) -%}
    arg_min({{ column }}, {{ order_key }})
        filter (where {{ column }} is not null)
{%- endmacro %}

{% macro spark__value_at_min(column, order_key) -%}
    min_by({{ column }}, {{ order_key }})
        filter (where {{ column }} is not null)
{%- endmacro %}

{#- The group's values as an array (aggregate). -#}
{% macro array_of(expression) -%}
    {{ return(adapter.dispatch('array_of')(expression)) }}
{%- endmacro %}

{% macro default__array_of(expression) -%}
    list({{ expression }})
{%- endmacro %}

{% macro spark__array_of(expression) -%}
    collect_list({{ expression }})
{%- endmacro %}

{#- One row per integer from `first` to `last` (a select-list expression). -#}
{% macro unnest_series(first, last) -%}
    {{ return(adapter.dispatch('unnest_series')(first, last)) }}
{%- endmacro %}

{% macro default__unnest_series(first, last) -%}
    unnest(range({{ first }}, {{ last }} + 1))
{%- endmacro %}

{% macro spark__unnest_series(first, last) -%}
    explode(sequence({{ first }}, {{ last }}))
{%- endmacro %}

{#- How many of the array's values are below `value`. -#}
{% macro count_below(values, value) -%}
    {{ return(adapter.dispatch('count_below')(values, value)) }}
{%- endmacro %}

{% macro default__count_below(values, value) -%}
    len(list_filter({{ values }}, lambda element: element < {{ value }}))
{%- endmacro %}

{% macro spark__count_below(values, value) -%}
    size(filter({{ values }}, element -> element < {{ value }}))
{%- endmacro %}

{% macro array_has(values, value) -%}
    {{ return(adapter.dispatch('array_has')(values, value)) }}
{%- endmacro %}

{% macro default__array_has(values, value) -%}
    list_contains({{ values }}, {{ value }})
{%- endmacro %}

{% macro spark__array_has(values, value) -%}
    array_contains({{ values }}, {{ value }})
{%- endmacro %}

{#- Every column but `columns` (a list of names). -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}

{#- A whole number with thousands separated: 366,200,000. -#}
{% macro thousands(number) -%}
    {{ return(adapter.dispatch('thousands')(number)) }}
{%- endmacro %}

{% macro default__thousands(number) -%}
    format('{:,}', {{ number }})
{%- endmacro %}

{% macro spark__thousands(number) -%}
    format_number({{ number }}, 0)
{%- endmacro %}

{#- The text type, for casts. -#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    varchar
{%- endmacro %}

{% macro spark__text_type() -%}
    string
{%- endmacro %}

{#- A 64-bit hash of one or more columns, for key tests: grouping or joining
    on one integer is far cheaper than on the texts it stands for. Equal keys
    hash equal; unequal keys may too (rarely), so tests recheck exactly. -#}
{% macro key_hash(columns) -%}
    {{ return(adapter.dispatch('key_hash')(columns)) }}
{%- endmacro %}

{% macro default__key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__key_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}
