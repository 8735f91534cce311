{#- What each Python model was fitted with, on what, and how long it took. -#}

select * from {{ ref('stg_scores__model_runs') }}
