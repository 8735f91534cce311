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

-- Each text trimmed once; the parsers below work on the trimmed copies (*_text).
trimmed as (

    select
        *,
        trim(raw_song) as song_text,
        trim(raw_use_count) as use_count_text,
        trim(raw_name) as name_text,
        trim(raw_followers) as followers_text,
        trim(raw_posts) as posts_text,
        trim(raw_bio) as bio_text,
        trim(raw_url) as url_text,
        trim(raw_er) as er_text,
        trim(raw_title) as title_text,
        trim(raw_release) as release_text,
        trim(raw_artist_name) as artist_name_text,
        trim(raw_year) as year_text,
        trim(raw_delta) as delta_text,
        trim(raw_curr_er) as curr_er_text,
        trim(raw_comments) as comments_text,
        trim(raw_likes) as likes_text,
        trim(raw_time) as time_text

    from renamed

),

-- Each number's regex runs once (here); the typed columns below only do arithmetic on it.
extracted as (

    select
        *,
        {{ number_parts('use_count_text') }} as use_count_parts,
        {{ number_parts('followers_text') }} as followers_parts,
        {{ number_parts('posts_text') }} as posts_parts,
        {{ number_parts('er_text') }} as er_parts,
        {{ number_parts('year_text') }} as year_parts,
        {{ number_parts('delta_text') }} as delta_parts,
        {{ number_parts('curr_er_text') }} as curr_er_parts,
        {{ number_parts('comments_text') }} as comments_parts,
        {{ number_parts('likes_text') }} as likes_parts

    from trimmed

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
        {{ canonical_url('url_text') }} as influencer_id,
        upper({{ clean_text('song_text') }}) as song_id,
        {{ clean_text('name_text') }} as influencer_name,
        {{ clean_text('bio_text') }} as bio,
        {{ clean_text('title_text') }} as title,
        {{ clean_text('release_text') }} as release_name,
        {{ clean_text('artist_name_text') }} as artist_name,
        {{ whole_count('use_count_number') }} as use_count,
        {{ whole_count('followers_number') }} as followers,
        {{ whole_count('posts_number') }} as posts,
        {{ whole_count('year_number') }} as release_year_raw,
        {{ whole_count('comments_number') }} as comments,
        {{ whole_count('likes_number') }} as likes,
        {{ days_from_parts(days_parts('time_text')) }} as days_since_posted

    from numbers

),

flagged as (

    select
        *,
        {{ instagram_handle('influencer_id') }} as handle,
        nullif(concat_ws(', ',
            case when {{ is_unparseable('use_count_text', 'use_count') }} then 'use_count' end,
            case when {{ is_unparseable('followers_text', 'followers') }} then 'Followers' end,
            case when {{ is_unparseable('posts_text', 'posts') }} then 'Posts' end,
            case when {{ is_unparseable('er_text', 'er') }} then 'ER' end,
            case when {{ is_unparseable('year_text', 'release_year_raw') }} then 'year' end,
            case when {{ is_unparseable('delta_text', 'delta_reported') }} then 'Delta' end,
            case when {{ is_unparseable('curr_er_text', 'curr_er') }} then 'Curr_ER' end,
            case when {{ is_unparseable('comments_text', 'comments') }} then 'Comments' end,
            case when {{ is_unparseable('likes_text', 'likes') }} then 'Likes' end,
            case when {{ is_unparseable('time_text', 'days_since_posted') }} then 'Time' end
        ), '') as unparseable_columns

    from parsed

),

final as (

    select * exclude (
        song_text, use_count_text, name_text, followers_text, posts_text, bio_text, url_text,
        er_text, title_text, release_text, artist_name_text, year_text, delta_text,
        curr_er_text, comments_text, likes_text, time_text
    )

    from flagged

)

select * from final
