{#- dbt's built-in `unique`, made cheap at scale the same way as
    unique_combination_of_columns: values grouped by their hash first, then
    exactly, only where a hash repeats. NULLs are not checked (as dbt's). -#}
{% test unique(model, column_name) %}

with

repeated_hashes as (

    select {{ key_hash([column_name]) }} as key_hash
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ key_hash([column_name]) }}
    having count(*) > 1

),

suspects as (

    select {{ column_name }} as unique_field
    from {{ model }}
    where {{ column_name }} is not null
        and {{ key_hash([column_name]) }} in (
            select key_hash from repeated_hashes
        )

),

grouped as (

    select
        unique_field,
        count(*) as n_records

    from suspects
    group by unique_field
    having count(*) > 1

)

select * from grouped

{% endtest %}
