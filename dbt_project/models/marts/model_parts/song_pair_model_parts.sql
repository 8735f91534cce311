{#- The servable models' weights between songs (neighbour similarities),
    with both songs' titles for analysts. -#}

with

parts as (

    select * from {{ ref('stg_scores__song_pair_parts') }}

),

songs as (

    select * from {{ ref('songs') }}

),

described as (

    select
        parts.method,
        parts.part,
        parts.song_id,
        songs.title,
        parts.other_song_id,
        other_songs.title as other_title,
        parts.value

    from parts
    inner join songs
        on parts.song_id = songs.song_id
    inner join songs as other_songs
        on parts.other_song_id = other_songs.song_id

)

select * from described
