{#- One row per source row with the first cleaning rule it fails (NULL: clean).
    Duplicates are judged only among rows that pass every other rule, so a row
    is never dropped as a "duplicate" of a row that was itself rejected: the
    first valid occurrence in file order (source_file, sheet, row) is kept, as
    pandas' drop_duplicates did in the report, and later copies are
    quarantined. -#}

{%- set raw_names = [] %}
{%- for column in raw_columns() %}
{%- do raw_names.append('raw_' ~ column | lower) %}
{%- endfor %}

with

reels as (

    select * from {{ ref('stg_raw__reels') }}

),

with_delta as (

    select
        *,
        -- The rating; derived from Curr_ER - ER when the Delta cell is blank.
        coalesce(delta_reported, curr_er - er) as delta,
        delta_reported is null and curr_er is not null and er is not null
            as is_delta_derived,
        nullif(release_year_raw, 0) as release_year

    from reels

),

row_rules as (

    select
        *,
        case
            when influencer_id is null or song_id is null
                then 'missing_url_or_song'
            when lost_cells is not null
                then 'formula_without_value'
            when unparseable_columns is not null
                then 'unparseable_number'
            when followers <= 0
                or posts < 0
                or use_count < 1
                or er < 0
                or likes < 0
                or comments < 0
                or not {{ is_finite('er') }}
                or not {{ is_finite('delta') }}
                or not {{ is_finite('curr_er') }}
                -- 1e308 is finite, but one such rating overflows every sum a
                -- model takes.
                or abs(delta) > {{ number_var('max_engagement_pct') }}
                or abs(curr_er) > {{ number_var('max_engagement_pct') }}
                or days_since_posted > {{ number_var('max_days_since_posted') }}
                -- Longer than Excel allows a cell: no spreadsheet wrote it. The
                -- byte length is free to read and never below the character count.
                {%- for column in raw_columns() %}
                or (
                    {{ byte_length('raw_' ~ column | lower) }}
                        > {{ max_cell_chars() }}
                    and length(raw_{{ column | lower }}) > {{ max_cell_chars() }}
                )
                {%- endfor %}
                then 'out_of_range'
            when posts > {{ number_var('max_posts') }}
                then 'posts_over_max'
            when er > {{ number_var('max_er') }}
                then 'er_over_max'
            when use_count > posts
                then 'use_count_over_posts'
        end as row_rule

    from with_delta

),

-- Numbered on the keys alone, then joined back: a window over the wide row
-- would carry every column through its sort.
valid_occurrence as (

    select
        source_row_id,
        row_number() over (
            partition by influencer_id, song_id
            order by source_file, source_sheet nulls first, source_row
        ) as valid_occurrence

    from row_rules
    where row_rule is null

),

occurrence as (

    select
        row_rules.*,
        valid_occurrence.valid_occurrence

    from row_rules
    left join valid_occurrence
        on row_rules.source_row_id = valid_occurrence.source_row_id

),

final as (

    -- The scraped text stays in staging (quarantined_reels joins it back for
    -- the few rejected rows): writing it here doubled the width of a table as
    -- long as the input.
    select
        {{ star_except(raw_names) }},
        coalesce(
            row_rule,
            case when valid_occurrence > 1 then 'duplicate_url_song' end
        ) as rejection_rule

    from occurrence

)

select * from final
