{#- Each song's nearest songs by who used them and how they lifted engagement
    (item KNN, cosine), with titles for analysts. -#}

with

neighbours as (

    select * from {{ ref('stg_scores__song_neighbours') }}

),

songs as (

    select * from {{ ref('songs') }}

),

described as (

    select
        neighbours.song_id,
        songs.title,
        songs.artist_name,
        neighbours.neighbour_rank,
        neighbours.neighbour_song_id,
        neighbour_songs.title as neighbour_title,
        neighbour_songs.artist_name as neighbour_artist_name,
        neighbours.similarity,
        neighbours.method

    from neighbours
    inner join songs
        on neighbours.song_id = songs.song_id
    inner join songs as neighbour_songs
        on neighbours.neighbour_song_id = neighbour_songs.song_id

)

select * from described
