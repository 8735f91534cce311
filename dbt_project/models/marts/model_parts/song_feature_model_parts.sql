{#- The content models' song features (title and release words, artist,
    decade), with titles and artists for analysts. -#}

with

parts as (

    select * from {{ ref('stg_scores__song_feature_parts') }}

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
        songs.artist_name,
        parts.feature,
        parts.value

    from parts
    inner join songs
        on parts.song_id = songs.song_id

)

select * from described
