-- The settings this warehouse was built with, so reports and analysts read
-- thresholds and tier cut-offs from the warehouse itself instead of guessing
-- the dbt vars of the run; and the method the run serves first.

with

run_vars as (

    select * from {{ ref('int_run_vars') }}

),

model_runs as (

    select * from {{ ref('stg_scores__model_runs') }}

),

chosen as (

    -- Popularity when the run fitted no model (too few reels) and judged none.
    select coalesce(max(case when is_default then method end), 'count') as method
    from model_runs

),

default_method as (

    select
        'default_method' as setting,
        method as setting_value,
        'The method served first (reelrec recommend, the report): chosen by'
        || ' MAP@eval_k on a validation cut of the training reels, never by the'
        || ' test reels; the simplest within one standard error of the best (see'
        || ' model_runs.validation_map, validation_map_se).' as description

    from chosen

)

select * from run_vars
union all
select * from default_method
