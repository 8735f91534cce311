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

-- Each number's regex runs once (here); the typed columns below only do arithmetic on it.
extracted as (

    select
        *,
        {{ number_parts('raw_use_count') }} as use_count_parts,
        {{ number_parts('raw_followers') }} as followers_parts,
        {{ number_parts('raw_posts') }} as posts_parts,
        {{ number_parts('raw_er') }} as er_parts,
        {{ number_parts('raw_year') }} as year_parts,
        {{ number_parts('raw_delta') }} as delta_parts,
        {{ number_parts('raw_curr_er') }} as curr_er_parts,
        {{ number_parts('raw_comments') }} as comments_parts,
        {{ number_parts('raw_likes') }} as likes_parts

    from renamed

),

numbers as (

    select
        * exclude (
            use_count_parts, followers_parts, posts_parts, er_parts, year_parts,
            delta_parts, curr_er_parts, comments_parts, likes_parts
        ),
        {{ number_from_parts('use_count_parts') }} as use_count_number,
        {{ number_from_parts('followers_parts') }} as followers_number,
        {{ number_from_parts('posts_parts') }} as posts_number,
        {{ number_from_parts('er_parts') }} as er,
        {{ number_from_parts('year_parts') }} as year_number,
        {{ number_from_parts('delta_parts') }} as delta_reported,
        {{ number_from_parts('curr_er_parts') }} as curr_er,
        {{ number_from_parts('comments_parts') }} as comments_number,
        {{ number_from_parts('likes_parts') }} as likes_number

    from extracted

),

parsed as (

    select
        concat_ws(':', source_file, coalesce(source_sheet, ''), source_row)
            as source_row_id,
        * exclude (
            use_count_number, followers_number, posts_number, year_number,
            comments_number, likes_number
        ),
        {{ canonical_url('raw_url') }} as influencer_id,
        upper({{ clean_text('raw_song') }}) as song_id,
        {{ clean_text('raw_name') }} as influencer_name,
        {{ clean_text('raw_bio') }} as bio,
        {{ clean_text('raw_title') }} as title,
        {{ clean_text('raw_release') }} as release_name,
        {{ clean_text('raw_artist_name') }} as artist_name,
        {{ whole_count('use_count_number') }} as use_count,
        {{ whole_count('followers_number') }} as followers,
        {{ whole_count('posts_number') }} as posts,
        {{ whole_count('year_number') }} as release_year_raw,
        {{ whole_count('comments_number') }} as comments,
        {{ whole_count('likes_number') }} as likes,
        {{ parse_days('raw_time') }} as days_since_posted

    from numbers

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
