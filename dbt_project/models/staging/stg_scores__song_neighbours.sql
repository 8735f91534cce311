with

source as (

    select * from {{ source('scores', 'song_neighbours') }}

)

select * from source
