with

source as (

    select * from {{ source('scores', 'recommendations') }}

)

select * from source
