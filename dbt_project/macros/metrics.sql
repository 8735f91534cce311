{#-
    Ranking metrics at k, written once for every method (SQL and Python models
    alike). For each influencer u with a non-empty relevant set R_u of held-out
    songs and a list L_u (ranks 1..k):
      precision@k = |L_u ∩ R_u| / k
      recall@k    = |L_u ∩ R_u| / |R_u|
      AP@k        = sum over hits at rank i of (hits up to i / i)
                    / min(k, |R_u|)
      NDCG@k      = sum over hits of 1/log2(i+1)
                    / sum_{i=1..min(k,|R_u|)} 1/log2(i+1)
    averaged over influencers with a relevant song; the rest are left out and
    counted. Coverage: distinct songs recommended to anyone / songs in the
    catalogue. `recommendations`: (method, scenario, influencer_id, rank,
    song_id); `relevant`: (scenario, relevance, influencer_id, song_id): a list
    is judged only against the held-out songs of its own scenario.
-#}
{% macro ranking_metrics(
    recommendations, relevant, influencers, catalogue, k
) %}

with

recommendations as (

    select * from {{ recommendations }}
    where rank <= {{ k }}

),

relevant as (

    select distinct scenario, relevance, influencer_id, song_id
    from {{ relevant }}

),

relevant_counts as (

    select scenario, relevance, influencer_id, count(*) as n_relevant
    from relevant
    group by scenario, relevance, influencer_id

),

methods as (

    select distinct method, scenario from recommendations

),

evaluated_users as (

    select
        methods.method,
        methods.scenario,
        relevant_counts.relevance,
        relevant_counts.influencer_id,
        relevant_counts.n_relevant

    from methods
    inner join relevant_counts
        on methods.scenario = relevant_counts.scenario

),

hits as (

    select
        recommendations.method,
        recommendations.scenario,
        relevant.relevance,
        recommendations.influencer_id,
        recommendations.rank,
        row_number() over (
            partition by
                recommendations.method,
                recommendations.scenario,
                relevant.relevance,
                recommendations.influencer_id
            order by recommendations.rank
        ) as hits_so_far

    from recommendations
    inner join relevant
        on recommendations.scenario = relevant.scenario
        and recommendations.influencer_id = relevant.influencer_id
        and recommendations.song_id = relevant.song_id

),

hit_sums as (

    select
        method,
        scenario,
        relevance,
        influencer_id,
        count(*) as n_hits,
        sum(cast(hits_so_far as double) / rank) as precision_at_hits,
        sum(1.0 / log2(rank + 1)) as dcg

    from hits
    group by method, scenario, relevance, influencer_id

),

ideal_dcg as (

    select
        position as n,
        sum(1.0 / log2(position + 1)) over (order by position) as idcg

    from (select {{ unnest_series(1, k) }} as position) as positions

),

per_user as (

    select
        evaluated_users.method,
        evaluated_users.scenario,
        evaluated_users.relevance,
        cast(coalesce(hit_sums.n_hits, 0) as double) / {{ k }}
            as precision_at_k,
        cast(coalesce(hit_sums.n_hits, 0) as double)
            / evaluated_users.n_relevant as recall_at_k,
        coalesce(hit_sums.precision_at_hits, 0)
            / least({{ k }}, evaluated_users.n_relevant) as average_precision,
        coalesce(hit_sums.dcg, 0) / ideal_dcg.idcg as ndcg

    from evaluated_users
    left join hit_sums
        on evaluated_users.method = hit_sums.method
        and evaluated_users.scenario = hit_sums.scenario
        and evaluated_users.relevance = hit_sums.relevance
        and evaluated_users.influencer_id = hit_sums.influencer_id
    inner join ideal_dcg
        on ideal_dcg.n = least({{ k }}, evaluated_users.n_relevant)

),

influencer_total as (

    select count(*) as n_influencers from {{ influencers }}

),

per_method as (

    select
        method,
        scenario,
        relevance,
        count(*) as users_evaluated,
        -- Rounded: the last bits of a parallel average depend on the thread
        -- count.
        round(avg(average_precision), 12) as map,
        round(avg(precision_at_k), 12) as precision,
        round(avg(recall_at_k), 12) as recall,
        round(avg(ndcg), 12) as ndcg

    from per_user
    group by method, scenario, relevance

),

long_metrics as (

    {% for metric in ['map', 'precision', 'recall', 'ndcg'] %}
    select
        method,
        scenario,
        '{{ metric }}' as metric,
        relevance,
        {{ metric }} as value,
        users_evaluated

    from per_method
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

coverage as (

    select
        recommendations.method,
        recommendations.scenario,
        'coverage' as metric,
        'any' as relevance,
        cast(count(distinct recommendations.song_id) as double)
            / (select count(*) from {{ catalogue }}) as value,
        count(distinct recommendations.influencer_id) as users_evaluated

    from recommendations
    group by recommendations.method, recommendations.scenario

),

final as (

    select
        {{ text_var('run_id') }} as run_id,
        metrics.method,
        metrics.scenario,
        metrics.metric,
        {{ k }} as k,
        metrics.relevance,
        metrics.value,
        metrics.users_evaluated,
        influencer_total.n_influencers - metrics.users_evaluated
            as users_skipped

    from (
        select * from long_metrics
        union all
        select * from coverage
    ) as metrics
    cross join influencer_total

)

select * from final

{% endmacro %}


{#- Rating accuracy on held-out reels: RMSE and MAE of predicted vs actual
    Delta, over every held-out rating; users_evaluated counts the influencers
    they belong to, as for the ranking metrics. `predictions`: (method,
    influencer_id, song_id, prediction). -#}
{% macro rating_metrics(predictions, splits) %}

with

predictions as (

    select * from {{ predictions }}

),

held_out as (

    select * from {{ splits }}
    where split = 'test' and delta is not null

),

errors as (

    select
        predictions.method,
        predictions.influencer_id,
        predictions.prediction - held_out.delta as error

    from predictions
    inner join held_out
        on predictions.influencer_id = held_out.influencer_id
        and predictions.song_id = held_out.song_id

),

-- Per influencer first: counting influencers is then a count of rows, where a
-- count(distinct) over every prediction (tens of millions at 10M reels) was
-- most of the score marts' time.
per_influencer as (

    select
        method,
        influencer_id,
        sum(error * error) as squared_errors,
        sum(abs(error)) as absolute_errors,
        count(*) as n_errors

    from errors
    group by method, influencer_id

),

per_method as (

    select
        method,
        round(sqrt(sum(squared_errors) / sum(n_errors)), 12) as rmse,
        round(sum(absolute_errors) / sum(n_errors), 12) as mae,
        count(*) as n_influencers

    from per_influencer
    group by method

),

final as (

    select
        {{ text_var('run_id') }} as run_id,
        method,
        'warm' as scenario,
        'rmse' as metric,
        cast(null as integer) as k,
        'rating' as relevance,
        rmse as value,
        n_influencers as users_evaluated,
        cast(0 as bigint) as users_skipped

    from per_method
    union all
    select
        {{ text_var('run_id') }},
        method,
        'warm',
        'mae',
        cast(null as integer),
        'rating',
        mae,
        n_influencers,
        cast(0 as bigint)

    from per_method

)

select * from final

{% endmacro %}
