{#- Profile attributes repeat on every reel row and can disagree (re-scrapes,
    "3.3k" vs 3321): each attribute takes its value from the most recent reel
    that has one (fewest days since posting, then file order). -#}

with

clean_reels as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

ordered as (

    select
        *,
        row_number() over (
            partition by influencer_id
            order by
                days_since_posted nulls last,
                source_file,
                source_sheet nulls first,
                source_row
        ) as recency_rank

    from clean_reels

),

profiles as (

    select
        influencer_id,
        {{ value_at_min('handle', 'recency_rank') }} as handle,
        {{ value_at_min('influencer_name', 'recency_rank') }}
            as influencer_name,
        {{ value_at_min('followers', 'recency_rank') }} as followers,
        {{ value_at_min('posts', 'recency_rank') }} as posts,
        {{ value_at_min('er', 'recency_rank') }} as er,
        {{ value_at_min('bio', 'recency_rank') }} as bio,
        count(*) as songs_used,
        sum(use_count) as reels_with_known_songs,
        round(avg(delta), 9) as mean_delta

    from ordered
    group by influencer_id

),

tiered as (

    select
        *,
        case
            when followers is null then 'unknown'
            when followers < {{ number_var('tier_nano_max_followers') }}
                then 'nano'
            when followers < {{ number_var('celebrity_followers') }}
                then 'micro'
            else 'celebrity'
        end as tier,
        coalesce(followers >= {{ number_var('celebrity_followers') }}, false)
            as is_celebrity

    from profiles

)

select * from tiered
