{{ config(schema='intermediate') }}

{#- Recommendations from training-split rankings, leaving out songs used in training:
    what each method would have recommended before the held-out reels happened. -#}

{{ recommend_from_rankings(
    ref('int_popularity_rankings__train'), ref('int_train_reels'), ref('influencers')
) }}
