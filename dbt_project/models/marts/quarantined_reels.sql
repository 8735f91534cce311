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
        {%- for column in raw_columns() %}
        scraped.raw_{{ column | lower }}{{ "," if not loop.last }}
        {%- endfor %}

    from validated
    inner join scraped
        on validated.source_row_id = scraped.source_row_id

)

select * from rejected
