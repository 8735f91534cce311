{#- The value of `column` on the row where `order_key` is smallest, skipping
    NULL values. -#}
{% macro value_at_min(column, order_key) -%}
    arg_min({{ column }}, {{ order_key }})
        filter (where {{ column }} is not null)
{%- endmacro %}
