with

validated as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is not null

),

-- The text as scraped, for the rejected rows only.
scraped as (

    select * from {{ ref('stg_raw__reels') }}

),

rejected as (

    select
        validated.source_row_id,
        validated.source_file,
        validated.source_sheet,
        validated.source_row,
        validated.rejection_rule,
        validated.unparseable_columns,
        validated.lost_cells,
        validated.influencer_id,
        validated.song_id,
        scraped.raw_song,
        scraped.raw_use_count,
        scraped.raw_name,
        scraped.raw_followers,
        scraped.raw_posts,
        scraped.raw_bio,
        scraped.raw_url,
        scraped.raw_er,
        scraped.raw_title,
        scraped.raw_release,
        scraped.raw_artist_name,
        scraped.raw_year,
        scraped.raw_delta,
        scraped.raw_curr_er,
        scraped.raw_comments,
        scraped.raw_likes,
        scraped.raw_time

    from validated
    inner join scraped
        on validated.source_row_id = scraped.source_row_id

)

select * from rejected
