{#- Clean reels in the training split: what every model may learn from. -#}

with

reels as (

    select * from {{ ref('reels') }}

),

splits as (

    select * from {{ ref('evaluation_splits') }}

),

train as (

    select reels.*
    from reels
    inner join splits
        on reels.influencer_id = splits.influencer_id
        and reels.song_id = splits.song_id
    where splits.split = 'train'

)

select * from train
