{#- A view of int_influencers_profiled, which holds the logic and the rows
    (intermediate models read it there); a second copy would add nothing. -#}
{{ config(materialized='view') }}

with

influencers as (

    select * from {{ ref('int_influencers_profiled') }}

)

select * from influencers
