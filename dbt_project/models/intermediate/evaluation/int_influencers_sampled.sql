{#- The influencers every method's ranking metrics are averaged over. All of
    them up to eval_max_influencers; beyond that a fixed pseudo-random sample of
    that many (md5 of influencer and split_seed), so that judging a method costs
    the same at 10M rows as at 1M while every method is still judged on the same
    people. -#}

with

influencers as (

    select influencer_id from {{ ref('int_influencers_profiled') }}

),

ordered as (

    select
        influencer_id,
        row_number() over (
            order by
                md5(influencer_id || '|' || '{{ number_var("split_seed") }}'),
                influencer_id
        ) as sample_position

    from influencers

),

sampled as (

    select influencer_id, sample_position
    from ordered
    where sample_position <= {{ number_var('eval_max_influencers') }}

)

select * from sampled
