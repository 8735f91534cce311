{#- Analyst-facing recommendations: who, which song, by which method, and why. -#}

with

recommendations as (

    select * from {{ ref('popularity_recommendations') }}

),

influencers as (

    select * from {{ ref('influencers') }}

),

songs as (

    select * from {{ ref('songs') }}

),

described as (

    select
        recommendations.influencer_id,
        influencers.handle,
        influencers.influencer_name,
        influencers.tier,
        recommendations.method,
        recommendations.rank,
        recommendations.song_id,
        songs.title,
        songs.artist_name,
        songs.release_year,
        recommendations.score,
        case recommendations.method
            when 'celebrity_sorted' then
                'used by a celebrity with '
                || cast(cast(recommendations.score as bigint) as varchar) || ' followers'
            when 'celebrity_count' then
                'used by ' || cast(cast(recommendations.score as bigint) as varchar)
                || ' celebrities'
            when 'count' then
                'used by ' || cast(cast(recommendations.score as bigint) as varchar)
                || ' influencers'
            when 'more_performing' then
                'lifted engagement by more than {{ var("delta_threshold") }} points for '
                || cast(cast(recommendations.score as bigint) as varchar) || ' influencers'
            when 'tier_count' then
                'used by ' || cast(cast(recommendations.score as bigint) as varchar)
                || ' ' || influencers.tier || ' influencers'
            when 'trending' then
                'trending: recent, high-engagement reels use it'
        end as reason

    from recommendations
    inner join influencers
        on recommendations.influencer_id = influencers.influencer_id
    inner join songs
        on recommendations.song_id = songs.song_id

)

select * from described
