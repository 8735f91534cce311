{{ config(schema='intermediate') }}

{#- Every method's recommendations made from the training split — popularity (SQL) and
    the Python models — in one shape, so the ranking metrics are computed once for all. -#}

with

popularity as (

    select
        method,
        'warm' as scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('int_popularity_recommendations__train') }}

),

models as (

    select
        method,
        scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('stg_scores__evaluation_recommendations') }}

)

select * from popularity
union all
select * from models
