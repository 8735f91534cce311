{#- How many songs each served Python model could offer each influencer: the
    whole catalogue minus the songs the influencer used. -#}

with

influencers as (

    select * from {{ ref('int_influencers_profiled') }}

),

methods as (

    select distinct method from {{ ref('stg_scores__recommendations') }}

),

clean_reels as (

    select song_id from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

catalogue as (

    select count(distinct song_id) as n_songs from clean_reels

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
