with

source as (

    select * from {{ source('scores', 'model_runs') }}

)

select * from source
