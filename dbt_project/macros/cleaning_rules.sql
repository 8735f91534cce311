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
