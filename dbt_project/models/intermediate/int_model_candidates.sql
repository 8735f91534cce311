{#- How many songs each served Python model could offer each influencer: the whole
    catalogue minus the songs the influencer used. -#}

with

influencers as (

    select * from {{ ref('influencers') }}

),

methods as (

    select distinct method from {{ ref('stg_scores__recommendations') }}

),

catalogue as (

    select count(*) as n_songs from {{ ref('songs') }}

),

candidates as (

    select
        influencers.influencer_id,
        methods.method,
        catalogue.n_songs - influencers.songs_used as candidate_count

    from influencers
    cross join methods
    cross join catalogue

)

select * from candidates
