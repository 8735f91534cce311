{#- How each servable model is rebuilt from its parts: class, parameters and
    fitted scalars (JSON). -#}

with

settings as (

    select * from {{ ref('stg_scores__model_settings') }}

)

select * from settings
