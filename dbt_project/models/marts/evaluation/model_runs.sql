{#- What each Python model was fitted with, on what, and how long it took. -#}

with

model_runs as (

    select * from {{ ref('stg_scores__model_runs') }}

)

select * from model_runs
