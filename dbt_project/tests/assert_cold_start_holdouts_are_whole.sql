{#- A cold-start holdout takes a song (cold_song) or an influencer
    (cold_influencer) whole: none of its reels may stay in training, or the
    "cold" entity would not be cold. -#}

with

splits as (

    select * from {{ ref('int_reels_split_cold_start') }}

),

split_entities as (

    select
        scenario,
        case
            when scenario = 'cold_song' then song_id else influencer_id
        end as entity,
        count(distinct split) as n_splits

    from splits
    group by all

)

select * from split_entities
where n_splits > 1
