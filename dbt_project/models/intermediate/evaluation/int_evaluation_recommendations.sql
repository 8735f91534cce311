{#- Every method's recommendations made from a scenario's training rows —
    popularity (SQL) and the Python models, warm and cold start — in one shape,
    so the ranking metrics are computed once for all. -#}

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

popularity_cold_song as (

    select
        method,
        'cold_song' as scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('int_popularity_recommendations__cold_song') }}

),

popularity_cold_influencer as (

    select
        method,
        'cold_influencer' as scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('int_popularity_recommendations__cold_influencer') }}

),

models as (

    select
        method,
        scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('stg_scores__evaluation_recommendations') }}

),

stacked as (

    select * from popularity
    union all
    select * from popularity_cold_song
    union all
    select * from popularity_cold_influencer
    union all
    select * from models

)

select * from stacked
