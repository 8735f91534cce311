{#- Held-out songs that count as hits, per scenario and relevance definition:
    used   — every held-out song the influencer used;
    lifted — held-out songs whose reel lifted engagement (Delta above
             lift_threshold: 0 for a lift, e.g. 3.5 for 1–5 stars).
    warm: the shared 75/25 split. cold_song: the influencer's reels with a
    held-out song (songs no model saw). cold_influencer: every reel of a
    held-out influencer.
    Only the sampled influencers (int_influencers_sampled) are judged. -#}

with

judged as (

    select * from {{ ref('int_influencers_sampled') }}

),

warm as (

    select 'warm' as scenario, influencer_id, song_id, delta
    from {{ ref('int_reels_split') }}
    where split = 'test'

),

cold as (

    select scenario, influencer_id, song_id, delta
    from {{ ref('int_reels_split_cold_start') }}
    where split = 'test'

),

all_test_reels as (

    select * from warm
    union all
    select * from cold

),

test_reels as (

    select all_test_reels.*
    from all_test_reels
    inner join judged
        on all_test_reels.influencer_id = judged.influencer_id

),

used as (

    select scenario, 'used' as relevance, influencer_id, song_id
    from test_reels

),

lifted as (

    select scenario, 'lifted' as relevance, influencer_id, song_id
    from test_reels
    where delta > {{ number_var('lift_threshold') }}

),

final as (

    select * from used
    union all
    select * from lifted

)

select * from final
