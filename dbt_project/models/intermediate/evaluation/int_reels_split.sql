{#- The one train/test split every model is evaluated on, SQL and Python alike:
    a reel is held out when the md5 of (influencer, song, split_seed) falls in
    the lowest test_percent of 100 buckets (macros/splits.sql). -#}

with

clean_reels as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

split as (

    select
        influencer_id,
        song_id,
        {{ warm_split('influencer_id', 'song_id') }} as split,
        delta,
        use_count

    from clean_reels

)

-- Stored by influencer: one influencer's reels (an on-demand list, an analyst's
-- lookup) are then read from a few row groups, which DuckDB's zone maps pick.
select * from split
order by influencer_id
