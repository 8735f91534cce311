{#- Song metadata comes with each reel row; the first clean row in file order
    wins. -#}

with

reels as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

ordered as (

    select
        *,
        row_number() over (
            partition by song_id
            order by source_file, source_sheet nulls first, source_row
        ) as file_order

    from reels

),

catalogue as (

    select
        song_id,
        {{ value_at_min('title', 'file_order') }} as title,
        {{ value_at_min('release_name', 'file_order') }} as release_name,
        {{ value_at_min('artist_name', 'file_order') }} as artist_name,
        {{ value_at_min('release_year', 'file_order') }} as release_year,
        count(distinct influencer_id) as user_count,
        sum(use_count) as total_use_count,
        round(avg(delta), 9) as mean_delta

    from ordered
    group by song_id

)

select * from catalogue
