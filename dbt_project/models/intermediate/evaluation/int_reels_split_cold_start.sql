{#- The cold-start holdouts, beside the warm split: every reel of a
    deterministic cold_percent of songs (scenario cold_song) and, separately, of
    influencers (scenario cold_influencer) is held out ('test'); models see only
    the 'train' rows of the scenario. Chosen by md5 of the song or influencer id
    and split_seed, like the warm split, so the same on every machine
    (macros/splits.sql). -#}

with

clean_reels as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

flagged as (

    select
        influencer_id,
        song_id,
        delta,
        use_count,
        {{ is_cold_song('song_id') }} as is_cold_song,
        {{ is_cold_influencer('influencer_id') }} as is_cold_influencer

    from clean_reels

),

cold_song as (

    select
        'cold_song' as scenario,
        influencer_id,
        song_id,
        case when is_cold_song then 'test' else 'train' end as split,
        delta,
        use_count

    from flagged

),

cold_influencer as (

    select
        'cold_influencer' as scenario,
        influencer_id,
        song_id,
        case when is_cold_influencer then 'test' else 'train' end as split,
        delta,
        use_count

    from flagged

),

final as (

    select * from cold_song
    union all
    select * from cold_influencer

)

select * from final
