{#- Clean reels of the influencers the cold_influencer scenario keeps: what its models
    may learn from. -#}

with

reels as (

    select * from {{ ref('reels') }}

),

splits as (

    select * from {{ ref('cold_start_splits') }}
    where scenario = 'cold_influencer' and split = 'train'

),

train as (

    select reels.*
    from reels
    inner join splits
        on reels.influencer_id = splits.influencer_id
        and reels.song_id = splits.song_id

)

select * from train
