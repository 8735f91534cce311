{#- Tests every recommendation table must pass, popularity and Python models
    alike. A recommendation table has (influencer_id, method, rank, song_id,
    score). -#}

{#- Ranks run 1..N with no gaps or repeats per influencer and method, and no
    song twice in a list: so (list keys, rank) is the table's key, and this is
    its key test. Gaps are found from each list's min, max and count. Repeats
    are found by grouping on a hash of (list, rank) and of (list, song) — one
    integer per row, not the texts — and then exactly, on the columns, among
    the rows whose hash repeats (none or a few at any scale). -#}
{% test ranks_are_contiguous(model, list_keys=['influencer_id', 'method']) %}

{%- set keys = list_keys | join(', ') %}
{%- set rank_key = list_keys + ['rank'] %}
{%- set song_key = list_keys + ['song_id'] %}

with

lists as (

    select
        {{ keys }},
        min(rank) as first_rank,
        max(rank) as last_rank,
        count(*) as n

    from {{ model }}
    group by {{ keys }}

),

gaps as (

    select {{ keys }}, 'ranks not 1..n' as problem
    from lists
    where first_rank <> 1 or last_rank <> n

),

repeated_rank_hashes as (

    select {{ key_hash(rank_key) }} as key_hash
    from {{ model }}
    group by {{ key_hash(rank_key) }}
    having count(*) > 1

),

repeated_ranks as (

    select {{ keys }}, 'rank repeated' as problem
    from {{ model }}
    where {{ key_hash(rank_key) }} in (
        select key_hash from repeated_rank_hashes
    )
    group by {{ keys }}, rank
    having count(*) > 1

),

repeated_song_hashes as (

    select {{ key_hash(song_key) }} as key_hash
    from {{ model }}
    group by {{ key_hash(song_key) }}
    having count(*) > 1

),

repeated_songs as (

    select {{ keys }}, 'song repeated' as problem
    from {{ model }}
    where {{ key_hash(song_key) }} in (
        select key_hash from repeated_song_hashes
    )
    group by {{ keys }}, song_id
    having count(*) > 1

)

select * from gaps
union all
select * from repeated_ranks
union all
select * from repeated_songs

{% endtest %}


{#- No influencer is recommended a song they already used (`used`:
    influencer_id, song_id; `used_where`: which of its rows count, e.g. one
    scenario's). Recommendations are first matched to the used reels on a hash
    of (influencer, song), one integer, then exactly, on the columns, among the
    few whose hash matched. -#}
{% test recommends_no_used_song(model, used, used_where='true') %}

{%- set pair = ['influencer_id', 'song_id'] %}

with

recommendations as (

    select * from {{ model }}

),

used as (

    select * from {{ used }}
    where {{ used_where }}

),

used_hashes as (

    select {{ key_hash(pair) }} as key_hash
    from used

),

suspects as (

    select *
    from recommendations
    where {{ key_hash(pair) }} in (select key_hash from used_hashes)

)

select suspects.*
from suspects
inner join used
    on suspects.influencer_id = used.influencer_id
    and suspects.song_id = used.song_id

{% endtest %}


{#- Each influencer gets top_n songs per method unless fewer are available
    (`candidates`: influencer_id, method, candidate_count). -#}
{% test recommends_top_n_unless_exhausted(model, candidates, top_n) %}

with

counts as (

    select influencer_id, method, count(*) as n
    from {{ model }}
    group by influencer_id, method

),

compared as (

    select
        candidates.influencer_id,
        candidates.method,
        candidates.candidate_count,
        coalesce(counts.n, 0) as n

    from {{ candidates }} as candidates
    left join counts
        on candidates.influencer_id = counts.influencer_id
        and candidates.method = counts.method

)

select * from compared
where n <> least({{ top_n }}, candidate_count)

{% endtest %}


{#- The column holds a finite number (not NULL, NaN or infinite). -#}
{% test is_finite_number(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} is null or not {{ is_finite(column_name) }}

{% endtest %}
