{{ config(schema='intermediate') }}

{#- Every method's recommendations made from the training split, in one shape, so the
    ranking metrics are computed once for all of them. -#}

with

popularity as (

    select
        method,
        'warm' as scenario,
        influencer_id,
        rank,
        song_id

    from {{ ref('int_popularity_recommendations__train') }}

)

select * from popularity
