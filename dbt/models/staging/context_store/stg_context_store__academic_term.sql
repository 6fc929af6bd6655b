-- Academic terms: the Fall and Spring terms of consecutive academic years. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_term') }}

),

renamed as (

    select
        {{ cs_cast('academic_term_id', 'int64') }}       as academic_term_id,
        {{ cs_cast('name', 'string') }}                  as name,
        {{ cs_cast('term_type', 'string') }}             as term_type,
        {{ cs_cast('session_type', 'string') }}          as session_type,
        {{ cs_cast('session_name', 'string') }}          as session_name,
        {{ cs_cast('term_year', 'int64') }}              as term_year,
        {{ cs_cast('term_begin_date', 'timestamp') }}    as term_begin_date,
        {{ cs_cast('term_end_date', 'timestamp') }}      as term_end_date,
        {{ cs_cast('instr_begin_date', 'timestamp') }}   as instr_begin_date,
        {{ cs_cast('instr_end_date', 'timestamp') }}     as instr_end_date,
        {{ cs_cast('le_term_begin_date', 'date') }}      as le_term_begin_date,
        {{ cs_cast('le_term_end_date', 'date') }}        as le_term_end_date
    from source

),

final as (

    select * from renamed

)

select * from final
