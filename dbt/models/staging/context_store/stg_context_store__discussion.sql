-- A discussion topic of a course. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'discussion') }}

),

renamed as (

    select
        {{ cs_cast('discussion_id', 'int64') }}          as discussion_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id,
        {{ cs_cast('title', 'string') }}                 as title,
        {{ cs_cast('status', 'string') }}                as status,
        {{ cs_cast('updated_date', 'timestamp') }}       as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
