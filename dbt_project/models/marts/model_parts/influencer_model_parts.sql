{#- The servable models' fitted state per influencer (factors, biases, topic
    weights), with handles for analysts. -#}

with

parts as (

    select * from {{ ref('stg_scores__influencer_parts') }}

),

influencers as (

    select * from {{ ref('influencers') }}

),

described as (

    select
        parts.method,
        parts.part,
        parts.influencer_id,
        influencers.handle,
        parts.value

    from parts
    inner join influencers
        on parts.influencer_id = influencers.influencer_id

)

select * from described
