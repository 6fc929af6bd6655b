-- A person's role in a section: students, then instructors and staff. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'course_section_enrollment') }}

),

renamed as (

    select
        {{ cs_cast('course_section_id', 'int64') }}     as course_section_id,
        {{ cs_cast('person_id', 'int64') }}             as person_id,
        {{ cs_cast('role', 'string') }}                 as role,
        {{ cs_cast('role_status', 'string') }}          as role_status,
        {{ cs_cast('enrollment_status', 'string') }}    as enrollment_status
    from source

),

final as (

    select * from renamed

)

select * from final
