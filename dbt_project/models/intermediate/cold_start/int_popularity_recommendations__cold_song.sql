{#- The popularity baseline for new songs: the held-out songs ranked by how many
    influencers used them in the scenario's training reels — none did, so every
    count is 0 and the list is the tie-break (song_id) order: the same for
    everyone, i.e. chance. Usage-based methods cannot tell songs nobody has used
    apart; that is the point. Made for the sampled influencers
    (int_influencers_sampled). -#}

with

cold_song_split as (

    select * from {{ ref('int_reels_split_cold_start') }}
    where scenario = 'cold_song'

),

judged_influencers as (

    select influencer_id from {{ ref('int_influencers_sampled') }}

),

training_counts as (

    select
        song_id,
        count(distinct influencer_id) filter (where split = 'train')
            as user_count

    from cold_song_split
    group by song_id
    having bool_and(split = 'test')

),

ranked as (

    select
        song_id,
        user_count,
        row_number() over (order by user_count desc, song_id) as song_rank

    from training_counts

),

recommended as (

    select
        judged_influencers.influencer_id,
        'count' as method,
        ranked.song_rank as rank,
        ranked.song_id,
        cast(ranked.user_count as double) as score

    from judged_influencers
    cross join ranked
    where ranked.song_rank <= {{ number_var('top_n') }}

)

select * from recommended
