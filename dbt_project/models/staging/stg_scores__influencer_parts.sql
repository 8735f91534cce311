with

source as (

    select * from {{ source('scores', 'influencer_parts') }}

)

select * from source
