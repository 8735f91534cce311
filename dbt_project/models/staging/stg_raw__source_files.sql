with

source as (

    select * from {{ source('raw', 'source_files') }}

),

renamed as (

    select
        concat_ws(':', source_file, coalesce(source_sheet, ''))
            as source_file_id,
        source_file,
        source_sheet,
        file_format,
        file_sha256,
        file_bytes,
        header_row,
        rows_read,
        columns_found,
        nullif(column_mapping, '') as column_mapping,
        nullif(missing_columns, '') as missing_columns,
        nullif(ignored_columns, '') as ignored_columns,
        lost_cells as lost_cell_count

    from source

)

select * from renamed
