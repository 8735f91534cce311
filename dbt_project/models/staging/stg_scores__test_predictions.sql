with

source as (

    select * from {{ source('scores', 'test_predictions') }}

)

select * from source
