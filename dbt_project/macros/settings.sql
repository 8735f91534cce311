{#-
    The vars as SQL. reelrec checks every var against its declared type and
    range before dbt runs (models_py/dbt_vars.py); these macros make sure that,
    however dbt is invoked, a var reaches the SQL only as a number or as a
    quoted literal, never as SQL text.
-#}

{#- A numeric var as a SQL number; anything else stops the build. -#}
{% macro number_var(name) -%}
    {%- set value = var(name) -%}
    {%- if value is not number or value is sameas true or value is sameas false
        or (value | string | lower) in ('nan', 'inf', '-inf') -%}
        {{ exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a finite number, got '"
            ~ (value | string | truncate(40)) ~ "'"
        ) }}
    {%- endif -%}
    {{ value }}
{%- endmacro %}

{#- A var as a quoted SQL string literal (for text, and for a setting's value
    as written). -#}
{% macro text_var(name) -%}
    '{{ var(name) | string | replace("'", "''") }}'
{%- endmacro %}
