with

source as (

    select * from {{ source('scores', 'song_pair_parts') }}

)

select * from source
