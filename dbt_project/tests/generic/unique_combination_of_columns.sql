{#- Fails with every combination of `combination_of_columns` that occurs more
    than once. The rows are grouped on a hash of the combination first (one
    integer, not the texts): only rows whose hash repeats, none or a few at any
    scale, are then grouped on the columns themselves, so the answer is exact. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns = combination_of_columns | join(', ') %}

with

repeated_hashes as (

    select {{ key_hash(combination_of_columns) }} as key_hash
    from {{ model }}
    group by {{ key_hash(combination_of_columns) }}
    having count(*) > 1

),

suspects as (

    select {{ columns }}
    from {{ model }}
    where {{ key_hash(combination_of_columns) }} in (
        select key_hash from repeated_hashes
    )

),

grouped as (

    select
        {{ columns }},
        count(*) as occurrences

    from suspects
    group by {{ columns }}
    having count(*) > 1

)

select * from grouped

{% endtest %}
