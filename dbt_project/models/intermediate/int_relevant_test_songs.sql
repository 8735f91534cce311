{{ config(schema='intermediate') }}

{#- Held-out songs that count as hits, under each relevance definition:
    used   — every held-out song the influencer used;
    lifted — held-out songs whose reel lifted engagement (Delta > 0). -#}

with

test_reels as (

    select * from {{ ref('evaluation_splits') }}
    where split = 'test'

),

used as (

    select 'used' as relevance, influencer_id, song_id
    from test_reels

),

lifted as (

    select 'lifted' as relevance, influencer_id, song_id
    from test_reels
    where delta > 0

)

select * from used
union all
select * from lifted
