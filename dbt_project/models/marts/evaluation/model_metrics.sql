{#- The project's one metrics table: every method (popularity in SQL, the Python
    models), ranking metrics for both relevance definitions and rating accuracy,
    on the shared split. Definitions: dbt_project/macros/metrics.sql. -#}

with

ranking as (

    {{ ranking_metrics(
        ref('int_evaluation_recommendations'),
        ref('int_relevant_test_songs'),
        ref('influencers'),
        ref('songs'),
        number_var('eval_k')
    ) }}

),

rating as (

    {{ rating_metrics(
        ref('stg_scores__test_predictions'), ref('evaluation_splits')
    ) }}

),

families as (

    select distinct method, family from {{ ref('stg_scores__model_runs') }}

),

combined as (

    select * from ranking
    union all
    select * from rating

),

final as (

    select
        combined.run_id,
        combined.method,
        coalesce(families.family, 'popularity') as family,
        combined.scenario,
        combined.metric,
        combined.k,
        combined.relevance,
        combined.value,
        combined.users_evaluated,
        combined.users_skipped

    from combined
    left join families
        on combined.method = families.method

)

select * from final
