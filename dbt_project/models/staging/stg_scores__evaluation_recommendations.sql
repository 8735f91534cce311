with

source as (

    select * from {{ source('scores', 'evaluation_recommendations') }}

)

select * from source
