-- Majors within programs. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_major') }}

),

renamed as (

    select
        {{ cs_cast('academic_major_id', 'int64') }}       as academic_major_id,
        {{ cs_cast('academic_program_id', 'int64') }}     as academic_program_id,
        {{ cs_cast('code', 'string') }}                   as code,
        {{ cs_cast('description', 'string') }}            as description,
        {{ cs_cast('cip_code2k', 'string') }}             as cip_code2k
    from source

),

final as (

    select * from renamed

)

select * from final
