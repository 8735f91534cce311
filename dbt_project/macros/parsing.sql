{#-
    Parsers for scraped text. DuckDB SQL lives only here (regexp_*, try_cast), so another
    engine needs new macros, not new models. Each returns NULL for blank and for junk;
    `is_unparseable` tells the two apart.
-#}

{#- Values meaning "no value" in spreadsheets and scrapes. -#}
{% macro null_tokens() -%}
    ('', 'na', 'n/a', 'null', 'none', 'nan', '-', '—')
{%- endmacro %}

{% macro is_blank(text) -%}
    ({{ text }} is null or lower(trim({{ text }})) in {{ null_tokens() }})
{%- endmacro %}

{#- A number as scraped: "1,636", "0.70%", "3.3k", "475.8m", "2b", " 12 ", "-7.7", "1e3".
    Thousands separators must be well-formed ("1,5" is junk, not 15). -#}
{% macro number_pattern() -%}
    '^([+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|[+-]?\.[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmb%]?)$'
{%- endmacro %}

{#- One regex pass per value: the digits and the unit suffix, as a struct. Staging computes
    it once per column; parse_number / parse_count below re-derive it for ad hoc use. -#}
{% macro number_parts(text) -%}
    regexp_extract(lower(trim({{ text }})), {{ number_pattern() }}, ['digits', 'unit'])
{%- endmacro %}

{% macro number_from_parts(parts) -%}
    (
        try_cast(replace({{ parts }}.digits, ',', '') as double)
        * case {{ parts }}.unit
            when 'k' then 1e3
            when 'm' then 1e6
            when 'b' then 1e9
            else 1
        end
    )
{%- endmacro %}

{% macro parse_number(text) -%}
    {{ number_from_parts(number_parts(text)) }}
{%- endmacro %}

{#- Whole counts (followers, likes, use_count): a fractional result is junk, not rounded.
    "16.1k" is 16100.000000000002 in binary floating point, hence the relative tolerance.
    `number` should be a column (it is used four times). -#}
{% macro whole_count(number) -%}
    (
        case
            when abs({{ number }} - round({{ number }})) <= 1e-9 * greatest(1, abs({{ number }}))
                then try_cast(round({{ number }}) as bigint)
        end
    )
{%- endmacro %}

{% macro parse_count(text) -%}
    {{ whole_count(parse_number(text)) }}
{%- endmacro %}

{#- Days since a reel was posted: "3d", "2w", "5h", "3 days", "12". -#}
{% macro days_pattern() -%}
    '^([0-9]+(?:\.[0-9]+)?)\s*(h|hrs?|hours?|d|days?|w|wks?|weeks?)?$'
{%- endmacro %}

{% macro parse_days(text) -%}
    (
        try_cast(
            regexp_extract(lower(trim({{ text }})), {{ days_pattern() }}, 1) as double
        )
        * case left(regexp_extract(lower(trim({{ text }})), {{ days_pattern() }}, 2), 1)
            when 'h' then 1.0 / 24
            when 'w' then 7
            else 1
        end
    )
{%- endmacro %}

{% macro is_unparseable(text, parsed) -%}
    (not {{ is_blank(text) }} and {{ parsed }} is null)
{%- endmacro %}

{#- Canonical influencer URL: https://www.instagram.com/<lower-case handle>/ with no query
    string, fragment or missing slash, whatever scheme/host spelling the scrape used.
    Instagram handles are case-insensitive, so case never splits one influencer in two. -#}
{% macro canonical_url(text) -%}
    (
        case
            when not {{ is_blank(text) }} then
                regexp_replace(
                    regexp_replace(
                        regexp_replace(
                            lower(trim({{ text }})), '[?#].*$', ''
                        ),
                        '^(?:https?://)?(?:(?:www|m)\.)?instagram\.com/+', 'https://www.instagram.com/'
                    ),
                    '/*$', '/'
                )
        end
    )
{%- endmacro %}

{% macro instagram_handle(canonical) -%}
    nullif(regexp_extract({{ canonical }}, '^https://www\.instagram\.com/([^/]+)/$', 1), '')
{%- endmacro %}

{#- Trimmed text; blanks and null tokens become NULL. -#}
{% macro clean_text(text) -%}
    (case when not {{ is_blank(text) }} then trim({{ text }}) end)
{%- endmacro %}

{#- NULL counts as finite: missing values are judged by other rules. -#}
{% macro is_finite(number) -%}
    coalesce(isfinite({{ number }}), true)
{%- endmacro %}

{#- A stable pseudo-random percentile in [0, 100) of a text key (md5: same on every
    machine and DuckDB version, unlike hash()). -#}
{% macro stable_percentile(key) -%}
    cast(md5_number_lower({{ key }}) % 100 as integer)
{%- endmacro %}
