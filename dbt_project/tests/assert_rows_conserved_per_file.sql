{#- Row conservation, per source file and sheet: rows read = rows in raw = clean
    rows + quarantined rows. Counted from the loader's log, the raw table and
    the two marts independently, so a bug in any one of them shows up here.
    Returns offending files. -#}

with

files as (

    select source_file, source_sheet, rows_read
    from {{ source('raw', 'source_files') }}

),

raw_rows as (

    select source_file, source_sheet, count(*) as rows_in_raw
    from {{ source('raw', 'reels') }}
    group by source_file, source_sheet

),

clean_rows as (

    select source_file, source_sheet, count(*) as rows_clean
    from {{ ref('reels') }}
    group by source_file, source_sheet

),

quarantined_rows as (

    select source_file, source_sheet, count(*) as rows_quarantined
    from {{ ref('quarantined_reels') }}
    group by source_file, source_sheet

),

files_in_raw as (

    select
        coalesce(files.source_file, raw_rows.source_file) as source_file,
        coalesce(files.source_sheet, raw_rows.source_sheet) as source_sheet,
        coalesce(files.rows_read, 0) as rows_read,
        coalesce(raw_rows.rows_in_raw, 0) as rows_in_raw

    from files
    full outer join raw_rows
        on files.source_file = raw_rows.source_file
        and files.source_sheet is not distinct from raw_rows.source_sheet

),

compared as (

    select
        files_in_raw.*,
        coalesce(clean_rows.rows_clean, 0) as rows_clean,
        coalesce(quarantined_rows.rows_quarantined, 0) as rows_quarantined

    from files_in_raw
    left join clean_rows
        on files_in_raw.source_file = clean_rows.source_file
        and files_in_raw.source_sheet
            is not distinct from clean_rows.source_sheet
    left join quarantined_rows
        on files_in_raw.source_file = quarantined_rows.source_file
        and files_in_raw.source_sheet
            is not distinct from quarantined_rows.source_sheet

),

violations as (

    select *
    from compared
    where rows_read <> rows_in_raw
        or rows_in_raw <> rows_clean + rows_quarantined

)

select * from violations
