{#- The popularity baseline for new influencers: every popularity method's
    ranking recomputed on the reels of the other influencers, top top_n for each
    held-out influencer (who has used nothing the rankings saw) who is judged
    (int_influencers_sampled). -#}

with

cold_train_reels as (

    select * from {{ ref('int_train_reels') }}
    where scenario = 'cold_influencer'

),

held_out as (

    select influencer_id from {{ ref('int_reels_split_cold_start') }}
    where scenario = 'cold_influencer' and split = 'test'

),

profiles as (

    select * from {{ ref('int_influencers_profiled') }}

),

judged as (

    select * from {{ ref('int_influencers_sampled') }}

),

cold_influencers as (

    select profiles.*
    from profiles
    inner join judged
        on profiles.influencer_id = judged.influencer_id
    where profiles.influencer_id in (select influencer_id from held_out)

),

cold_rankings as (

    {{ popularity_song_rankings('cold_train_reels', 'profiles') }}

),

recommended as (

    {{ recommend_from_rankings(
        'cold_rankings', 'cold_train_reels', 'cold_influencers'
    ) }}

)

select * from recommended
