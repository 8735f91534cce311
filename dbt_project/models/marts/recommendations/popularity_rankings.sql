{#- A view of int_popularity_rankings__all, which holds the logic and the rows
    (intermediate models read it there); a second copy would add nothing. -#}
{{ config(materialized='view') }}

with

popularity_rankings as (

    select * from {{ ref('int_popularity_rankings__all') }}

)

select * from popularity_rankings
