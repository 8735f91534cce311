{#- A view of int_reels_split_cold_start, which holds the logic and the rows
    (intermediate models read it there); a second copy would add nothing. -#}
{{ config(materialized='view') }}

with

cold_start_splits as (

    select * from {{ ref('int_reels_split_cold_start') }}

)

select * from cold_start_splits
