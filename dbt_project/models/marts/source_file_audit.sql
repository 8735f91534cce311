{#- The audit trail: what each file brought in and where every row went. -#}

with

files as (

    select * from {{ ref('stg_raw__source_files') }}

),

validated as (

    select * from {{ ref('int_reels_validated') }}

),

outcomes as (

    select
        source_file,
        source_sheet,
        count(*) as rows_in_raw,
        count(*) filter (where rejection_rule is null) as rows_clean,
        count(*) filter (where rejection_rule is not null) as rows_quarantined,
        {%- for rule in cleaning_rules() %}
        count(*) filter (where rejection_rule = '{{ rule }}')
            as rows_{{ rule }},
        {%- endfor %}
        count(*) filter (where is_delta_derived) as rows_delta_derived

    from validated
    group by source_file, source_sheet

),

final as (

    select
        files.source_file_id,
        files.source_file,
        files.source_sheet,
        files.file_format,
        files.file_sha256,
        files.header_row,
        files.rows_read,
        coalesce(outcomes.rows_in_raw, 0) as rows_in_raw,
        coalesce(outcomes.rows_clean, 0) as rows_clean,
        coalesce(outcomes.rows_quarantined, 0) as rows_quarantined,
        {%- for rule in cleaning_rules() %}
        coalesce(outcomes.rows_{{ rule }}, 0) as rows_{{ rule }},
        {%- endfor %}
        coalesce(outcomes.rows_delta_derived, 0) as rows_delta_derived,
        files.column_mapping,
        files.missing_columns,
        files.ignored_columns,
        files.lost_cell_count

    from files
    left join outcomes
        on files.source_file = outcomes.source_file
        and files.source_sheet is not distinct from outcomes.source_sheet

)

select * from final
