{#- The project's one metrics table: every method, every metric, both relevance
    definitions, on the shared split (see the ranking_metrics macro for definitions). -#}

{{ ranking_metrics(
    ref('int_evaluation_recommendations'),
    ref('int_relevant_test_songs'),
    ref('influencers'),
    ref('songs'),
    var('eval_k')
) }}
