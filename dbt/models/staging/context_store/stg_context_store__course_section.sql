-- A section of a course offering. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'course_section') }}

),

renamed as (

    select
        {{ cs_cast('course_section_id', 'int64') }}                  as course_section_id,
        {{ cs_cast('course_offering_id', 'int64') }}                 as course_offering_id,
        {{ cs_cast('le_current_course_offering_id', 'int64') }}      as le_current_course_offering_id,
        {{ cs_cast('le_original_course_offering_id', 'int64') }}     as le_original_course_offering_id,
        {{ cs_cast('section_number', 'string') }}                    as section_number,
        {{ cs_cast('le_name', 'string') }}                           as le_name,
        {{ cs_cast('status', 'string') }}                            as status,
        {{ cs_cast('delivery_mode', 'string') }}                     as delivery_mode,
        {{ cs_cast('max_enrollment', 'int64') }}                     as max_enrollment,
        {{ cs_cast('academic_session_id', 'int64') }}                as academic_session_id,
        {{ cs_cast('campus_id', 'int64') }}                          as campus_id
    from source

),

final as (

    select * from renamed

)

select * from final
