-- A module (unit of a course's content). Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'module') }}

),

renamed as (

    select
        {{ cs_cast('module_id', 'int64') }}              as module_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id,
        {{ cs_cast('name', 'string') }}                  as name,
        {{ cs_cast('position', 'int64') }}               as position,
        {{ cs_cast('status', 'string') }}                as status,
        {{ cs_cast('updated_date', 'timestamp') }}       as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
