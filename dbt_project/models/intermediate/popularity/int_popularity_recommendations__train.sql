{#- Recommendations from training-split rankings, leaving out songs used in
    training: what each method would have recommended before the held-out reels
    happened. Made for the sampled influencers (int_influencers_sampled)
    only. -#}

with

judged_influencers as (

    select influencers.*
    from {{ ref('int_influencers_profiled') }} as influencers
    inner join {{ ref('int_influencers_sampled') }} as sampled
        on influencers.influencer_id = sampled.influencer_id

),

train_reels as (

    select * from {{ ref('int_train_reels') }}
    where scenario = 'warm'

),

recommended as (

    {{ recommend_from_rankings(
        ref('int_popularity_rankings__train'),
        'train_reels',
        'judged_influencers'
    ) }}

)

select * from recommended
