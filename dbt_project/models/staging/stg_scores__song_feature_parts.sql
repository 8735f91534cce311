with

source as (

    select * from {{ source('scores', 'song_feature_parts') }}

)

select * from source
