with

source as (

    select * from {{ source('scores', 'array_parts') }}

)

select * from source
