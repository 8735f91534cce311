{#- The popularity baseline for new influencers: every popularity method's ranking
    recomputed on the reels of the other influencers, top top_n for each held-out
    influencer (who has used nothing the rankings saw) who is judged
    (evaluation_influencers). -#}

with

rankings as (

    {{ popularity_song_rankings(ref('int_cold_influencer_train_reels'), ref('influencers')) }}

),

cold_influencers as (

    select influencers.*
    from {{ ref('influencers') }} as influencers
    inner join {{ ref('evaluation_influencers') }} as evaluation_influencers
        on influencers.influencer_id = evaluation_influencers.influencer_id
    where influencers.influencer_id in (
        select influencer_id from {{ ref('cold_start_splits') }}
        where scenario = 'cold_influencer' and split = 'test'
    )

),

recommended as (

    {{ recommend_from_rankings('rankings', ref('int_cold_influencer_train_reels'),
        'cold_influencers') }}

)

select * from recommended
