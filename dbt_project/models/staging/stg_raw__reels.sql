{#- The raw columns (macros/contract.sql) keep their text as raw_<name>; each is
    trimmed once, as <name>_text, for the parsers. -#}
{%- set raw_names = raw_columns() | map('lower') | list %}
{%- set text_columns = [] %}
{%- for name in raw_names %}{% do text_columns.append(name ~ '_text') %}{% endfor %}
{#- The raw columns parsed into a value, and the typed column each became. -#}
{%- set parsed_columns = [
    ('use_count', 'use_count'),
    ('Followers', 'followers'),
    ('Posts', 'posts'),
    ('ER', 'er'),
    ('year', 'release_year_raw'),
    ('Delta', 'delta_reported'),
    ('Curr_ER', 'curr_er'),
    ('Comments', 'comments'),
    ('Likes', 'likes'),
    ('Time', 'days_since_posted'),
] %}

with

source as (

    select * from {{ source('raw', 'reels') }}

),

renamed as (

    select
        source_file,
        source_sheet,
        source_row,
        {%- for column in raw_columns() %}
        {{ adapter.quote(column) }} as raw_{{ column | lower }},
        {%- endfor %}
        lost_cells

    from source

),

-- Each text trimmed once; the parsers below work on the trimmed copies
-- (*_text).
trimmed as (

    select
        *,
        {%- for name in raw_names %}
        trim(raw_{{ name }}) as {{ name }}_text{{ "," if not loop.last }}
        {%- endfor %}

    from renamed

),

-- Each number's regex runs once (here); the typed columns below only do
-- arithmetic on it.
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
        {{ star_except([
            'use_count_parts', 'followers_parts', 'posts_parts', 'er_parts',
            'year_parts', 'delta_parts', 'curr_er_parts', 'comments_parts',
            'likes_parts',
        ]) }},
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
        concat_ws(
            ':',
            source_file,
            coalesce(source_sheet, ''),
            cast(source_row as {{ text_type() }})
        ) as source_row_id,
        {{ star_except([
            'use_count_number', 'followers_number', 'posts_number',
            'year_number', 'comments_number', 'likes_number',
        ]) }},
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
            {%- for column, parsed in parsed_columns %}
            case
                when {{ is_unparseable(column | lower ~ '_text', parsed) }}
                    then '{{ column }}'
            end{{ "," if not loop.last }}
            {%- endfor %}
        ), '') as unparseable_columns

    from parsed

),

final as (

    select {{ star_except(text_columns) }}

    from flagged

)

select * from final
