{#-
    Popularity rankings, computed from any set of clean reels: all of them to serve
    recommendations, the training split to evaluate. One row per method, segment and song;
    segment is 'all' except for tier_count, which ranks within each follower tier.
    Every ranking has a stated, deterministic tie-break ending in song_id.
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
        reels.*,
        influencers.followers,
        influencers.er,
        influencers.tier,
        influencers.is_celebrity

    from reels
    inner join influencers
        on reels.influencer_id = influencers.influencer_id

),

-- 1. The report's first variant: celebrities' reels by followers, then ER; each song
--    takes the position of the best-placed celebrity reel that used it.
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

-- 3. Songs by distinct influencers (user_count), then total use_count; rare songs out.
count_ranked as (

    {{ distinct_user_ranking(
        'count',
        having='count(distinct influencer_id) >= ' ~ var('min_user_count')
    ) }}

),

-- 4. Songs by the number of influencers for whom they lifted ER above the threshold.
more_performing as (

    {{ distinct_user_ranking(
        'more_performing',
        where='delta > ' ~ var('delta_threshold'),
        tie_break='-round(sum(delta), 9)'
    ) }}

),

-- 5. Count-style ranking within the influencer's own follower tier.
tier_count as (

    {{ distinct_user_ranking('tier_count', segment='tier') }}

),

-- 6. Engagement-weighted usage, each reel's weight halving every half-life days.
--    Reels with no Time or engagement cannot be weighted and are left out. Sums of
--    doubles depend on the order threads add them in: rounding to 9 decimals keeps the
--    ranking identical whatever the thread count.
trending_scores as (

    select
        song_id,
        round(sum(
            greatest(curr_er, 0)
            * power(0.5, days_since_posted / {{ var('trending_half_life_days') }})
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
            order by order_key_1, order_key_2, song_id
        ) as song_rank

    from all_methods

)

select * from ranked

{% endmacro %}


{#-
    Top `top_n` songs per influencer and method from song rankings, leaving out songs the
    influencer already used. Set-based: each influencer needs at most top_n + (songs they
    used) candidates from the head of a ranking, so the candidate set is generated exactly
    (equi-joins only) and grows with influencers × top_n, never influencers × songs.
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

songs_used as (

    select influencer_id, count(*) as n_used
    from used
    group by influencer_id

),

methods as (

    select distinct method from rankings

),

influencer_windows as (

    select
        influencers.influencer_id,
        methods.method,
        case
            when methods.method = 'tier_count' then influencers.tier else 'all'
        end as segment,
        {{ var('top_n') }} + coalesce(songs_used.n_used, 0) as window_size

    from influencers
    cross join methods
    left join songs_used
        on influencers.influencer_id = songs_used.influencer_id

),

candidate_positions as (

    select
        influencer_id,
        method,
        segment,
        {{ expand_range('window_size') }} as song_rank

    from influencer_windows

),

candidates as (

    select
        candidate_positions.influencer_id,
        rankings.method,
        rankings.song_id,
        rankings.song_rank,
        rankings.score

    from candidate_positions
    inner join rankings
        on candidate_positions.method = rankings.method
        and candidate_positions.segment = rankings.segment
        and candidate_positions.song_rank = rankings.song_rank

),

unused as (

    select candidates.*
    from candidates
    left join used
        on candidates.influencer_id = used.influencer_id
        and candidates.song_id = used.song_id
    where used.song_id is null

),

reranked as (

    select
        influencer_id,
        method,
        row_number() over (
            partition by influencer_id, method order by song_rank
        ) as rank,
        song_id,
        score

    from unused

)

select * from reranked
where rank <= {{ var('top_n') }}

{% endmacro %}


{#- A ranking by distinct influencers who used a song (reels_with_profiles rows passing
    `where`), ties broken by `tie_break` (ascending; default: more total uses first), then
    song_id. `segment` is 'all' or a column to rank within. -#}
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


{#- 1, 2, …, n as rows (DuckDB: unnest of a range). -#}
{% macro expand_range(n) -%}
    unnest(range(1, {{ n }} + 1))
{%- endmacro %}
