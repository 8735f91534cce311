{#- The one train/test split every model is evaluated on, SQL and Python alike. -#}

with

reels as (

    select * from {{ ref('reels') }}

),

split as (

    select
        influencer_id,
        song_id,
        case
            when {{ stable_percentile(
                "influencer_id || '|' || song_id || '|' || '" ~ var('split_seed') ~ "'"
            ) }} < {{ var('test_percent') }}
                then 'test'
            else 'train'
        end as split,
        delta,
        use_count

    from reels

)

select * from split
