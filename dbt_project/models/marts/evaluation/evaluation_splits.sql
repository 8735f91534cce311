{#- A view of int_reels_split, which holds the logic and the rows
    (intermediate models read it there); a second copy would add nothing. -#}
{{ config(materialized='view') }}

with

evaluation_splits as (

    select * from {{ ref('int_reels_split') }}

)

select * from evaluation_splits
