-- Sessions inside a term (full term and its halves). Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_session') }}

),

renamed as (

    select
        {{ cs_cast('academic_session_id', 'int64') }}     as academic_session_id,
        {{ cs_cast('academic_term_id', 'int64') }}        as academic_term_id,
        {{ cs_cast('name', 'string') }}                   as name,
        {{ cs_cast('session_type', 'string') }}           as session_type,
        {{ cs_cast('begin_date', 'timestamp') }}          as begin_date,
        {{ cs_cast('end_date', 'timestamp') }}            as end_date,
        {{ cs_cast('instr_begin_date', 'timestamp') }}    as instr_begin_date,
        {{ cs_cast('instr_end_date', 'timestamp') }}      as instr_end_date
    from source

),

final as (

    select * from renamed

)

select * from final
