{#- Analyst-facing recommendations from every method: who, which song, and why.
    A view (see its description): one influencer's lists are read without
    building everyone's. -#}

{{ config(materialized='view') }}

{#- A count-like score (followers, influencers). -#}
{%- set whole_score = 'cast(all_recommendations.score as bigint)' %}

with

popularity as (

    select * from {{ ref('popularity_recommendations') }}

),

models as (

    select * from {{ ref('stg_scores__recommendations') }}

),

influencers as (

    select * from {{ ref('influencers') }}

),

songs as (

    select * from {{ ref('songs') }}

),

reels as (

    select * from {{ ref('reels') }}

),

neighbours as (

    select * from {{ ref('stg_scores__song_neighbours') }}

),

default_method as (

    select setting_value as method
    from {{ ref('run_settings') }}
    where setting = 'default_method'

),

all_recommendations as (

    select
        influencer_id,
        method,
        rank,
        song_id,
        score,
        cast(null as {{ text_type() }}) as because_song_id

    from popularity
    union all
    select influencer_id, method, rank, song_id, score, because_song_id
    from models

),

-- For any method that names none itself, the song the influencer already used
-- that is most similar to the pick (item KNN neighbours): "because you used …".
-- The used songs' neighbours are listed first and matched to the picks on
-- (influencer, song) in one equi-join, cheaper than joining every pick to every
-- neighbour of its song first.
used_neighbours as (

    select
        reels.influencer_id,
        neighbours.neighbour_song_id as song_id,
        neighbours.song_id as used_song_id,
        neighbours.similarity

    from reels
    inner join neighbours
        on reels.song_id = neighbours.song_id
        and neighbours.method = 'item_knn'

),

because_used as (

    select
        all_recommendations.influencer_id,
        all_recommendations.method,
        all_recommendations.song_id,
        used_neighbours.used_song_id,
        row_number() over (
            partition by
                all_recommendations.influencer_id,
                all_recommendations.method,
                all_recommendations.song_id
            order by
                used_neighbours.similarity desc,
                used_neighbours.used_song_id
        ) as closeness

    from all_recommendations
    inner join used_neighbours
        on all_recommendations.influencer_id = used_neighbours.influencer_id
        and all_recommendations.song_id = used_neighbours.song_id
    where all_recommendations.because_song_id is null

),

described as (

    select
        all_recommendations.influencer_id,
        influencers.handle,
        influencers.influencer_name,
        influencers.tier,
        all_recommendations.method,
        all_recommendations.method = default_method.method as is_default,
        all_recommendations.rank,
        all_recommendations.song_id,
        songs.title,
        songs.artist_name,
        songs.release_year,
        all_recommendations.score,
        coalesce(all_recommendations.because_song_id, because_used.used_song_id)
            as because_used_song_id,
        case all_recommendations.method
            when 'celebrity_sorted' then
                'used by a celebrity with '
                || {{ count_phrase(whole_score, 'follower', 'followers') }}
            when 'celebrity_count' then
                'used by '
                || {{ count_phrase(whole_score, 'celebrity', 'celebrities') }}
            when 'count' then
                'used by '
                || {{ count_phrase(whole_score, 'influencer', 'influencers') }}
            when 'more_performing' then
                'lifted engagement by more than '
                || '{{ number_var("delta_threshold") }} points for '
                || {{ count_phrase(whole_score, 'influencer', 'influencers') }}
            when 'tier_count' then
                'used by '
                || {{ count_phrase(
                    whole_score, 'influencer', 'influencers',
                    adjective='influencers.tier'
                ) }}
            when 'trending' then
                'trending: recent, high-engagement reels use it'
            when 'item_knn' then
                'similar to songs you used'
            when 'item_knn_bm25' then
                'similar to songs you used'
            when 'ease' then
                'often used with the songs you used'
            when 'als' then
                'used by influencers who use songs like yours'
            when 'content' then
                'close in artist, era and words to the songs that lifted '
                || 'your reels'
            when 'hybrid' then
                'predicted lift and closeness to the songs you used'
            when 'artist_topics' then
                'influencers who use your artists use it'
            when 'two_stage' then
                'influencers with your taste use it, and it is predicted to lift'
                || ' your engagement'
            else
                'predicted lift of '
                || cast(
                    round(all_recommendations.score, 2) as {{ text_type() }}
                )
                || ' ER points'
        end
        || case
            when all_recommendations.because_song_id is not null
                and lower(trim(used_songs.artist_name))
                    = lower(trim(songs.artist_name))
                then ' — same artist as "' || used_songs.title
                    || '", which you used'
            else coalesce(
                ' — closest to "' || used_songs.title || '" by '
                || used_songs.artist_name || ', which you used',
                ''
            )
        end as reason

    from all_recommendations
    cross join default_method
    inner join influencers
        on all_recommendations.influencer_id = influencers.influencer_id
    inner join songs
        on all_recommendations.song_id = songs.song_id
    left join because_used
        on all_recommendations.influencer_id = because_used.influencer_id
        and all_recommendations.method = because_used.method
        and all_recommendations.song_id = because_used.song_id
        and because_used.closeness = 1
    left join songs as used_songs
        on coalesce(
            all_recommendations.because_song_id, because_used.used_song_id
        ) = used_songs.song_id

)

select * from described
