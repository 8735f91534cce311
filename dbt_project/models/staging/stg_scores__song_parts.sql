with

source as (

    select * from {{ source('scores', 'song_parts') }}

)

select * from source
