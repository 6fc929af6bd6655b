-- A course in a term. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'course_offering') }}

),

renamed as (

    select
        {{ cs_cast('course_offering_id', 'int64') }}                       as course_offering_id,
        {{ cs_cast('academic_term_id', 'int64') }}                         as academic_term_id,
        {{ cs_cast('cip_family', 'string') }}                              as cip_family,
        {{ cs_cast('academic_organization_id', 'int64') }}                 as academic_organization_id,
        {{ cs_cast('subject', 'string') }}                                 as subject,
        {{ cs_cast('course_level', 'string') }}                            as course_level,
        {{ cs_cast('number', 'string') }}                                  as number,
        {{ cs_cast('le_code', 'string') }}                                 as le_code,
        {{ cs_cast('title', 'string') }}                                   as title,
        {{ cs_cast('available_credits', 'int64') }}                        as available_credits,
        {{ cs_cast('le_status', 'string') }}                               as le_status,
        {{ cs_cast('le_start_date', 'date') }}                             as le_start_date,
        {{ cs_cast('le_end_date', 'date') }}                               as le_end_date,
        {{ cs_cast('learning_environment_organization_id', 'int64') }}     as learning_environment_organization_id
    from source

),

final as (

    select * from renamed

)

select * from final
