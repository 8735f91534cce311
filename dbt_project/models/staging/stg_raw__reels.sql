{{ config(schema='staging') }}

with

source as (

    select * from {{ source('raw', 'reels') }}

),

renamed as (

    select
        source_file,
        source_sheet,
        source_row,
        "Song" as raw_song,
        use_count as raw_use_count,
        "Name" as raw_name,
        "Followers" as raw_followers,
        "Posts" as raw_posts,
        "Bio" as raw_bio,
        "URL" as raw_url,
        "ER" as raw_er,
        title as raw_title,
        "release" as raw_release,
        artist_name as raw_artist_name,
        "year" as raw_year,
        "Delta" as raw_delta,
        "Curr_ER" as raw_curr_er,
        "Comments" as raw_comments,
        "Likes" as raw_likes,
        "Time" as raw_time,
        lost_cells

    from source

),

parsed as (

    select
        concat_ws(':', source_file, coalesce(source_sheet, ''), source_row)
            as source_row_id,
        *,
        {{ canonical_url('raw_url') }} as influencer_id,
        upper({{ clean_text('raw_song') }}) as song_id,
        {{ clean_text('raw_name') }} as influencer_name,
        {{ clean_text('raw_bio') }} as bio,
        {{ clean_text('raw_title') }} as title,
        {{ clean_text('raw_release') }} as release_name,
        {{ clean_text('raw_artist_name') }} as artist_name,
        {{ parse_count('raw_use_count') }} as use_count,
        {{ parse_count('raw_followers') }} as followers,
        {{ parse_count('raw_posts') }} as posts,
        {{ parse_number('raw_er') }} as er,
        {{ parse_count('raw_year') }} as release_year_raw,
        {{ parse_number('raw_delta') }} as delta_reported,
        {{ parse_number('raw_curr_er') }} as curr_er,
        {{ parse_count('raw_comments') }} as comments,
        {{ parse_count('raw_likes') }} as likes,
        {{ parse_days('raw_time') }} as days_since_posted

    from renamed

),

flagged as (

    select
        *,
        {{ instagram_handle('influencer_id') }} as handle,
        nullif(concat_ws(', ',
            case when {{ is_unparseable('raw_use_count', 'use_count') }} then 'use_count' end,
            case when {{ is_unparseable('raw_followers', 'followers') }} then 'Followers' end,
            case when {{ is_unparseable('raw_posts', 'posts') }} then 'Posts' end,
            case when {{ is_unparseable('raw_er', 'er') }} then 'ER' end,
            case when {{ is_unparseable('raw_year', 'release_year_raw') }} then 'year' end,
            case when {{ is_unparseable('raw_delta', 'delta_reported') }} then 'Delta' end,
            case when {{ is_unparseable('raw_curr_er', 'curr_er') }} then 'Curr_ER' end,
            case when {{ is_unparseable('raw_comments', 'comments') }} then 'Comments' end,
            case when {{ is_unparseable('raw_likes', 'likes') }} then 'Likes' end,
            case when {{ is_unparseable('raw_time', 'days_since_posted') }} then 'Time' end
        ), '') as unparseable_columns

    from parsed

)

select * from flagged
