{#- A count in words for reasons shown to people: thousands separated and the
    noun in the singular for one ("366,200,000 followers", "1 influencer").
    `adjective` is SQL text put before the noun (tier_count's tier). -#}
{% macro count_phrase(count, one, many, adjective=none) -%}
    (
        {{ thousands(count) }}
        {%- if adjective is not none %} || ' ' || {{ adjective }}{% endif %}
        || case when {{ count }} = 1 then ' {{ one }}' else ' {{ many }}' end
    )
{%- endmacro %}
