{#- What each scenario's SQL baselines learn from: the warm split's training
    reels, and every reel of the influencers the cold_influencer scenario keeps.
    The cold_song baseline needs no reels (nobody used its songs in training).
    Only the columns the popularity rankings read. The reels are picked by the
    splits' own rules (macros/splits.sql), the rows int_reels_split and
    int_reels_split_cold_start label 'train', without joining those back. -#}

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

    select
        'warm' as scenario,
        clean_reels.*

    from clean_reels
    where {{ warm_split('influencer_id', 'song_id') }} = 'train'

),

cold_influencer_training as (

    select
        'cold_influencer' as scenario,
        clean_reels.*

    from clean_reels
    where not {{ is_cold_influencer('influencer_id') }}

),

train_reels as (

    select * from warm_training
    union all
    select * from cold_influencer_training

)

select * from train_reels
