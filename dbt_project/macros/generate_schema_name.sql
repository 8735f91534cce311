{#- Custom schemas are used as written (staging, intermediate), not prefixed
    with the target schema: analysts and BI tools see marts in `main`, plumbing
    elsewhere. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
