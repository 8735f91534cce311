{#- A view of int_influencers_sampled, which holds the logic and the rows
    (intermediate models read it there); a second copy would add nothing. -#}
{{ config(materialized='view') }}

with

evaluation_influencers as (

    select * from {{ ref('int_influencers_sampled') }}

)

select * from evaluation_influencers
