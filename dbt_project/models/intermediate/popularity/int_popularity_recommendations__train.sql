{#- Recommendations from training-split rankings, leaving out songs used in training:
    what each method would have recommended before the held-out reels happened. Made for
    the influencers who are judged (evaluation_influencers) only. -#}

with

evaluated as (

    select influencers.*
    from {{ ref('influencers') }} as influencers
    inner join {{ ref('evaluation_influencers') }} as evaluation_influencers
        on influencers.influencer_id = evaluation_influencers.influencer_id

),

recommended as (

    {{ recommend_from_rankings(
        ref('int_popularity_rankings__train'), ref('int_train_reels'), 'evaluated'
    ) }}

)

select * from recommended
