{#- The servable models' parts on other axes (artist_topics' topic x artist
    weights). -#}

with

parts as (

    select * from {{ ref('stg_scores__array_parts') }}

)

select * from parts
