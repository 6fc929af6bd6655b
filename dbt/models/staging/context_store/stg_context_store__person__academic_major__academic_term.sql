-- Declared majors of a student in a term (none while undeclared). Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'person__academic_major__academic_term') }}

),

renamed as (

    select
        {{ cs_cast('person_id', 'int64') }}             as person_id,
        {{ cs_cast('academic_term_id', 'int64') }}      as academic_term_id,
        {{ cs_cast('academic_major_id', 'int64') }}     as academic_major_id
    from source

),

final as (

    select * from renamed

)

select * from final
