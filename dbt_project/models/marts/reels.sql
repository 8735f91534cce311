with

validated as (

    select * from {{ ref('int_reels_validated') }}

),

clean as (

    select
        influencer_id,
        song_id,
        use_count,
        delta,
        is_delta_derived,
        curr_er,
        likes,
        comments,
        days_since_posted,
        followers as followers_at_scrape,
        er as er_at_scrape,
        source_file,
        source_sheet,
        source_row

    from validated
    where rejection_rule is null

)

select * from clean
