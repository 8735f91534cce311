{#- What each scenario's SQL baselines learn from: the warm split's training
    reels, and every reel of the influencers the cold_influencer scenario keeps.
    The cold_song baseline needs no reels (nobody used its songs in training).
    Only the columns the popularity rankings read. -#}

with

clean_reels as (

    select
        influencer_id,
        song_id,
        use_count,
        delta,
        curr_er,
        days_since_posted

    from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

warm_training as (

    select 'warm' as scenario, influencer_id, song_id
    from {{ ref('int_reels_split') }}
    where split = 'train'

),

cold_influencer_training as (

    select scenario, influencer_id, song_id
    from {{ ref('int_reels_split_cold_start') }}
    where scenario = 'cold_influencer' and split = 'train'

),

training as (

    select * from warm_training
    union all
    select * from cold_influencer_training

),

train_reels as (

    select
        training.scenario,
        clean_reels.*

    from clean_reels
    inner join training
        on clean_reels.influencer_id = training.influencer_id
        and clean_reels.song_id = training.song_id

)

select * from train_reels
