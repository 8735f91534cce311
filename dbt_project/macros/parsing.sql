{#-
    Parsers for scraped text. What differs between engines (regexes, structs,
    slicing) goes through macros/engine.sql, so another engine needs new
    macros there, not new models. Each returns NULL for
    blank and for junk; `is_unparseable` tells the two apart. They take text
    already trimmed: staging trims every column once. parse_number, parse_count
    and parse_days parse one raw value end to end, for tests and ad hoc queries;
    staging runs the same steps in separate CTEs so that each regex runs once
    per value.
-#}

{#- Values meaning "no value" in spreadsheets and scrapes: '', na, n/a, null,
    none, nan, -, — (any case), as a full-match pattern. A token may carry the
    % of a percent-formatted column ("NaN%", "nan %", "N/A%"): still no value.
    Not `lower(x) in (...)` nor list_contains: DuckDB plans those as a MARK hash
    join evaluated on every row (profiled: most of the staging time). Patterns
    are bare: regex_full_match quotes them for the engine. -#}
{% macro null_token_pattern() -%}
    {{ return('(?:(?:na|n/a|null|none|nan|-|—)(?:\\s*%)?)?') }}
{%- endmacro %}

{% macro is_blank(trimmed) -%}
    (
        {{ trimmed }} is null
        or {{ regex_full_match(trimmed, null_token_pattern(), 'i') }}
    )
{%- endmacro %}

{#- A number as scraped: "1,636", "0.70%", "3.3k", "475.8m", "2b", " 12 ",
    "-7.7", "1e3". Thousands separators must be well-formed ("1,5" is junk, not
    15). -#}
{% macro number_pattern() -%}
    {{ return(
        '^([+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?'
        ~ '|[+-]?\\.[0-9]+(?:e[+-]?[0-9]+)?)\\s*([kmb%]?)$'
    ) }}
{%- endmacro %}

{#- One regex pass per value: the digits and the unit suffix, as a struct (NULL
    when the text does not match). A full match without capture groups is far
    cheaper in RE2 than an extraction; once the text is known to match, the unit
    is its last character (if a letter or %) and the digits the rest. -#}
{% macro number_parts(trimmed) -%}
    (
        case when {{ regex_full_match(trimmed, number_pattern(), 'i') }}
            then case
                when {{ text_position("'kmb%'", 'lower(right(' ~ trimmed ~ ', 1))') }}
                    > 0
                then {{ struct_of([
                    ('digits', 'rtrim(' ~ drop_last_chars(trimmed, 1) ~ ')'),
                    ('unit', 'lower(right(' ~ trimmed ~ ', 1))'),
                ]) }}
                else {{ struct_of([('digits', trimmed), ('unit', "''")]) }}
            end
        end
    )
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
    {{ number_from_parts(number_parts('trim(' ~ text ~ ')')) }}
{%- endmacro %}

{#- Whole counts (followers, likes, use_count): a fractional result is junk, not
    rounded. "16.1k" is 16100.000000000002 in binary floating point, hence the
    relative tolerance. `number` should be a column (it is used four times). -#}
{% macro whole_count(number) -%}
    (
        case
            when abs({{ number }} - round({{ number }}))
                <= 1e-9 * greatest(1, abs({{ number }}))
                then try_cast(round({{ number }}) as bigint)
        end
    )
{%- endmacro %}

{% macro parse_count(text) -%}
    {{ whole_count(parse_number(text)) }}
{%- endmacro %}

{#- Days since a reel was posted: "3d", "2w", "5h", "3 days", "12". -#}
{% macro days_pattern() -%}
    {{ return(
        '^([0-9]+(?:\\.[0-9]+)?)\\s*(h|hrs?|hours?|d|days?|w|wks?|weeks?)?$'
    ) }}
{%- endmacro %}

{% macro parse_days(text) -%}
    {{ days_from_parts(days_parts('trim(' ~ text ~ ')')) }}
{%- endmacro %}

{#- Like number_parts: one full match, then cheap look-ups (the amount is the
    leading number; the unit words that matched are the only ones containing h
    or w). -#}
{% macro days_parts(trimmed) -%}
    (
        case when {{ regex_full_match(trimmed, days_pattern(), 'i') }}
            then {{ struct_of([
                ('amount', regex_first_match(trimmed, '^[0-9]+(?:\\.[0-9]+)?')),
                ('unit', "case
                    when contains(" ~ trimmed ~ ", 'h')
                        or contains(" ~ trimmed ~ ", 'H') then 'h'
                    when contains(" ~ trimmed ~ ", 'w')
                        or contains(" ~ trimmed ~ ", 'W') then 'w'
                    else 'd'
                end"),
            ]) }}
        end
    )
{%- endmacro %}

{% macro days_from_parts(parts) -%}
    (
        try_cast({{ parts }}.amount as double)
        * case {{ parts }}.unit
            when 'h' then cast(1 as double) / 24
            when 'w' then 7
            else 1
        end
    )
{%- endmacro %}

{#- Parsed values are almost never NULL, so the blank check runs only when one
    is. -#}
{% macro is_unparseable(trimmed, parsed) -%}
    (
        case
            when {{ parsed }} is null then not {{ is_blank(trimmed) }}
            else false
        end
    )
{%- endmacro %}

{#- Canonical influencer URL: https://www.instagram.com/<lower-case handle>/
    with no query string, fragment or missing slash, whatever scheme/host
    spelling the scrape used. A bare handle ("cristiano", "@cristiano",
    "cristiano/") is that profile too. Instagram handles are case-insensitive,
    so case never splits one influencer in two. Anything else (another site's
    URL) is kept lower-cased, without query, as its own key with no handle.
    Most scraped URLs are canonical already: one match instead of four
    rewrites. -#}
{% macro canonical_url(trimmed) -%}
    (
        case
            when {{ regex_full_match(
                trimmed, '^https://www\\.instagram\\.com/[a-z0-9._]+/$'
            ) }}
                then {{ trimmed }}
            when not {{ is_blank(trimmed) }} then
                {{ with_one_trailing_slash(regex_replace_once(
                    regex_replace_once(
                        regex_replace_once('lower(' ~ trimmed ~ ')', '[?#].*$', ''),
                        '^@?([a-z0-9._]+)/*$',
                        'instagram.com/\\1'
                    ),
                    '^(?:https?://)?(?:(?:www|m)\\.)?instagram\\.com/+@?',
                    'https://www.instagram.com/'
                )) }}
        end
    )
{%- endmacro %}

{% macro instagram_handle(canonical) -%}
    (
        case
            when {{ regex_full_match(
                canonical, '^https://www\\.instagram\\.com/[^/]+/$'
            ) }}
                then {{ text_slice(canonical, 27, 1) }}
        end
    )
{%- endmacro %}

{#- The text, or NULL for blanks and null tokens. -#}
{% macro clean_text(trimmed) -%}
    (case when not {{ is_blank(trimmed) }} then {{ trimmed }} end)
{%- endmacro %}


{#- A stable pseudo-random percentile in [0, 100) of a text key (md5: same on
    every machine and DuckDB version, unlike hash()). -#}
{% macro stable_percentile(key) -%}
    cast({{ md5_lower_64(key) }} % 100 as integer)
{%- endmacro %}
