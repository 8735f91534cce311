with

source as (

    select * from {{ source('scores', 'model_settings') }}

)

select * from source
