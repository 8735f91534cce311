with

validated as (

    select * from {{ ref('int_reels_validated') }}

),

rejected as (

    select
        source_row_id,
        source_file,
        source_sheet,
        source_row,
        rejection_rule,
        unparseable_columns,
        lost_cells,
        influencer_id,
        song_id,
        raw_song,
        raw_use_count,
        raw_name,
        raw_followers,
        raw_posts,
        raw_bio,
        raw_url,
        raw_er,
        raw_title,
        raw_release,
        raw_artist_name,
        raw_year,
        raw_delta,
        raw_curr_er,
        raw_comments,
        raw_likes,
        raw_time

    from validated
    where rejection_rule is not null

)

select * from rejected
