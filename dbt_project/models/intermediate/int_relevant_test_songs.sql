{#- Held-out songs that count as hits, per scenario and relevance definition:
    used   — every held-out song the influencer used;
    lifted — held-out songs whose reel lifted engagement (Delta > 0).
    warm: the shared 75/25 split. cold_song: the influencer's reels with a held-out song
    (songs no model saw). cold_influencer: every reel of a held-out influencer.
    Only the influencers of evaluation_influencers are judged. -#}

with

evaluated as (

    select * from {{ ref('evaluation_influencers') }}

),

warm as (

    select 'warm' as scenario, influencer_id, song_id, delta
    from {{ ref('evaluation_splits') }}
    where split = 'test'

),

cold as (

    select scenario, influencer_id, song_id, delta
    from {{ ref('cold_start_splits') }}
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
    inner join evaluated
        on all_test_reels.influencer_id = evaluated.influencer_id

),

used as (

    select scenario, 'used' as relevance, influencer_id, song_id
    from test_reels

),

lifted as (

    select scenario, 'lifted' as relevance, influencer_id, song_id
    from test_reels
    where delta > 0

)

select * from used
union all
select * from lifted
