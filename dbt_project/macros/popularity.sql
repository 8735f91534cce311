{#-
    Popularity rankings, computed from any set of clean reels: all of them to
    serve recommendations, the training split to evaluate. One row per method,
    segment and song; segment is 'all' except for tier_count, which ranks within
    each follower tier. Every ranking has a stated, deterministic tie-break
    ending in song_id. `reels` needs (influencer_id, song_id, use_count, delta,
    curr_er, days_since_posted); `influencers` (influencer_id, followers, er,
    tier, is_celebrity).
-#}
{% macro popularity_song_rankings(reels, influencers) %}

with

reels as (

    select * from {{ reels }}

),

influencers as (

    select * from {{ influencers }}

),

reels_with_profiles as (

    select
        reels.influencer_id,
        reels.song_id,
        reels.use_count,
        reels.delta,
        reels.curr_er,
        reels.days_since_posted,
        influencers.followers,
        influencers.er,
        influencers.tier,
        influencers.is_celebrity

    from reels
    inner join influencers
        on reels.influencer_id = influencers.influencer_id

),

-- 1. The report's first variant: celebrities' reels by followers, then ER; each
-- song takes the position of the best-placed celebrity reel that used it.
celebrity_reel_order as (

    select
        song_id,
        followers,
        row_number() over (
            order by followers desc, er desc nulls last, influencer_id,
                use_count desc, song_id
        ) as reel_position

    from reels_with_profiles
    where is_celebrity

),

celebrity_sorted as (

    select
        'celebrity_sorted' as method,
        'all' as segment,
        song_id,
        max(followers) as score,
        min(reel_position) as order_key_1,
        0 as order_key_2

    from celebrity_reel_order
    group by song_id

),

-- 2. Songs by the number of distinct celebrities that used them.
celebrity_count as (

    {{ distinct_user_ranking('celebrity_count', where='is_celebrity') }}

),

-- 3. Songs by distinct influencers (user_count), then total use_count; rare
-- songs out.
count_ranked as (

    {{ distinct_user_ranking(
        'count',
        having='count(distinct influencer_id) >= '
            ~ number_var('min_user_count')
    ) }}

),

-- 4. Songs by the number of influencers for whom they lifted ER above the
-- threshold.
more_performing as (

    {{ distinct_user_ranking(
        'more_performing',
        where='delta > ' ~ number_var('delta_threshold'),
        tie_break='-round(sum(delta), 9)'
    ) }}

),

-- 5. Count-style ranking within the influencer's own follower tier.
tier_count as (

    {{ distinct_user_ranking('tier_count', segment='tier') }}

),

-- 6. Engagement-weighted usage, each reel's weight halving every half-life
-- days. Reels with no Time or engagement cannot be weighted and are left out.
-- Sums of doubles depend on the order threads add them in: rounding to 9
-- decimals keeps the ranking identical whatever the thread count.
trending_scores as (

    select
        song_id,
        round(sum(
            greatest(curr_er, 0)
            * power(
                0.5,
                days_since_posted
                / {{ number_var('trending_half_life_days') }}
            )
        ), 9) as score

    from reels_with_profiles
    where days_since_posted is not null and curr_er is not null
    group by song_id

),

trending as (

    select
        'trending' as method,
        'all' as segment,
        song_id,
        score,
        -score as order_key_1,
        0 as order_key_2

    from trending_scores

),

all_methods as (

    select * from celebrity_sorted
    union all
    select * from celebrity_count
    union all
    select * from count_ranked
    union all
    select * from more_performing
    union all
    select * from tier_count
    union all
    select * from trending

),

ranked as (

    select
        method,
        segment,
        song_id,
        cast(score as double) as score,
        row_number() over (
            partition by method, segment
            order by order_key_1 nulls last, order_key_2 nulls last, song_id
        ) as song_rank

    from all_methods

)

select * from ranked

{% endmacro %}


{#-
    Top `top_n` songs per influencer and method from song rankings, leaving out
    songs the influencer already used; tier_count ranks within the influencer's
    tier, every other method over all songs. `rankings`: (method, segment,
    song_id, score, song_rank); `used`: (influencer_id, song_id); `influencers`:
    (influencer_id, tier).

    It returns what this plain query returns (tests/test_popularity.py runs both
    on random data):

        select * from (
            select
                influencers.influencer_id,
                rankings.method,
                row_number() over (
                    partition by influencers.influencer_id, rankings.method
                    order by rankings.song_rank
                ) as rank,
                rankings.song_id,
                rankings.score
            from influencers
            inner join rankings
                on rankings.segment = case
                    when rankings.method = 'tier_count' then influencers.tier
                    else 'all'
                end
            left join used
                on influencers.influencer_id = used.influencer_id
                and rankings.song_id = used.song_id
            where used.song_id is null
        )
        where rank <= top_n

    That query ranks every influencer × song; this macro does not. A used song
    shifts an influencer's list only if it sits within the first top_n + (songs
    they used) places of the ranking, so only those few used songs are kept.
    Influencers with none there take the ranking's first top_n songs as they
    are; only the others' lists are renumbered. Rows grow with influencers ×
    top_n, never influencers × songs.
-#}
{% macro recommend_from_rankings(rankings, used, influencers) %}

with

rankings as (

    select * from {{ rankings }}

),

used as (

    select distinct influencer_id, song_id from {{ used }}

),

influencers as (

    select * from {{ influencers }}

),

methods as (

    select distinct method from rankings

),

influencer_segments as (

    select
        influencers.influencer_id,
        methods.method,
        case
            when methods.method = 'tier_count' then influencers.tier else 'all'
        end as segment

    from influencers
    cross join methods

),

songs_used as (

    select influencer_id, count(*) as n_used
    from used
    group by influencer_id

),

used_with_profiles as (

    select
        used.influencer_id,
        used.song_id,
        influencers.tier,
        songs_used.n_used

    from used
    inner join influencers
        on used.influencer_id = influencers.influencer_id
    inner join songs_used
        on used.influencer_id = songs_used.influencer_id

),

-- Each influencer's used songs within the first top_n + n_used places of one of
-- their rankings, and where: the only used songs that can shift their list.
-- Probing the small rankings with the used songs keeps every big side
-- streaming.
used_in_heads as (

    select
        used_with_profiles.influencer_id,
        rankings.method,
        rankings.segment,
        rankings.song_rank

    from used_with_profiles
    inner join rankings
        on used_with_profiles.song_id = rankings.song_id
    where rankings.segment = case
            when rankings.method = 'tier_count' then used_with_profiles.tier
            else 'all'
        end
        and rankings.song_rank
            <= {{ number_var('top_n') }} + used_with_profiles.n_used

),

-- One row per shifted list, its used places gathered: the list is renumbered
-- from them row by row, with no join or window over the (influencers x top_n)
-- expanded places.
shifted as (

    select
        influencer_id,
        method,
        segment,
        count(*) as n_shift,
        {{ array_of('song_rank') }} as used_ranks

    from used_in_heads
    group by influencer_id, method, segment

),

-- Untouched lists: places 1..top_n of the ranking, as they are. Every
-- influencer is paired with the (few) head rows of their rankings, so the big
-- side only ever streams through small hash tables (a generated 1..top_n series
-- joined to the rankings was once planned the other way round and spilled to
-- disk at scale).
ranking_tops as (

    select * from rankings
    where song_rank <= {{ number_var('top_n') }}

),

unshifted as (

    select influencer_segments.*
    from influencer_segments
    left join shifted
        on influencer_segments.influencer_id = shifted.influencer_id
        and influencer_segments.method = shifted.method
    where shifted.n_shift is null

),

untouched as (

    select
        unshifted.influencer_id,
        unshifted.method,
        ranking_tops.song_rank as rank,
        ranking_tops.song_id,
        ranking_tops.score

    from unshifted
    inner join ranking_tops
        on unshifted.method = ranking_tops.method
        and unshifted.segment = ranking_tops.segment

),

-- Shifted lists: the first top_n + n_shift places minus the used ones; a kept
-- place moves up by the number of used places above it.
shifted_places as (

    select
        influencer_id,
        method,
        segment,
        used_ranks,
        {{ unnest_series(1, number_var('top_n') ~ ' + n_shift') }} as song_rank

    from shifted

),

renumbered_places as (

    select
        influencer_id,
        method,
        segment,
        song_rank,
        song_rank - {{ count_below('used_ranks', 'song_rank') }} as rank

    from shifted_places
    where not {{ array_has('used_ranks', 'song_rank') }}

),

renumbered as (

    select
        renumbered_places.influencer_id,
        renumbered_places.method,
        renumbered_places.rank,
        rankings.song_id,
        rankings.score

    from renumbered_places
    inner join rankings
        on renumbered_places.method = rankings.method
        and renumbered_places.segment = rankings.segment
        and renumbered_places.song_rank = rankings.song_rank

),

final as (

    select * from untouched
    union all
    select * from renumbered
    where rank <= {{ number_var('top_n') }}

)

select * from final

{% endmacro %}


{#- A ranking by distinct influencers who used a song (reels_with_profiles rows
    passing `where`), ties broken by `tie_break` (ascending; default: more total
    uses first), then song_id. `segment` is 'all' or a column to rank
    within. -#}
{% macro distinct_user_ranking(
    method, segment='all', where=none, having=none, tie_break='-sum(use_count)'
) %}
    select
        '{{ method }}' as method,
        {{ "'all'" if segment == 'all' else segment }} as segment,
        song_id,
        count(distinct influencer_id) as score,
        -count(distinct influencer_id) as order_key_1,
        {{ tie_break }} as order_key_2

    from reels_with_profiles
    {% if where %}where {{ where }}{% endif %}
    group by {% if segment != 'all' %}{{ segment }}, {% endif %}song_id
    {% if having %}having {{ having }}{% endif %}
{% endmacro %}

