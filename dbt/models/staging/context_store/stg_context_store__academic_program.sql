-- Degree programs. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_program') }}

),

renamed as (

    select
        {{ cs_cast('academic_program_id', 'int64') }}     as academic_program_id,
        {{ cs_cast('academic_career_id', 'int64') }}      as academic_career_id,
        {{ cs_cast('description', 'string') }}            as description,
        {{ cs_cast('educational_level', 'string') }}      as educational_level
    from source

),

final as (

    select * from renamed

)

select * from final
