{#- How many songs each popularity method could offer each influencer: the songs
    in the influencer's segment of the ranking, minus those already used. Lets
    tests check that nobody gets fewer than top_n recommendations unless the
    ranking runs out. -#}

with

rankings as (

    select * from {{ ref('int_popularity_rankings__all') }}

),

influencers as (

    select * from {{ ref('int_influencers_profiled') }}

),

clean_reels as (

    select influencer_id, song_id from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

segment_sizes as (

    select method, segment, count(*) as songs_ranked
    from rankings
    group by method, segment

),

influencer_segments as (

    select
        influencers.influencer_id,
        segment_sizes.method,
        segment_sizes.segment,
        segment_sizes.songs_ranked

    from influencers
    inner join segment_sizes
        on segment_sizes.segment = case
            when segment_sizes.method = 'tier_count' then influencers.tier
            else 'all'
        end

),

used_in_ranking as (

    select
        clean_reels.influencer_id,
        rankings.method,
        count(*) as songs_used

    from clean_reels
    inner join influencers
        on clean_reels.influencer_id = influencers.influencer_id
    inner join rankings
        on clean_reels.song_id = rankings.song_id
        and rankings.segment = case
            when rankings.method = 'tier_count' then influencers.tier
            else 'all'
        end
    group by clean_reels.influencer_id, rankings.method

),

candidates as (

    select
        influencer_segments.influencer_id,
        influencer_segments.method,
        influencer_segments.songs_ranked
            - coalesce(used_in_ranking.songs_used, 0) as candidate_count

    from influencer_segments
    left join used_in_ranking
        on influencer_segments.influencer_id = used_in_ranking.influencer_id
        and influencer_segments.method = used_in_ranking.method

)

select * from candidates
