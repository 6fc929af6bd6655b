-- An item of a module: an assignment, page, file, quiz, discussion or link. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'module_item') }}

),

renamed as (

    select
        {{ cs_cast('module_item_id', 'int64') }}         as module_item_id,
        {{ cs_cast('module_id', 'int64') }}              as module_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id,
        {{ cs_cast('title', 'string') }}                 as title,
        {{ cs_cast('content_type', 'string') }}          as content_type,
        {{ cs_cast('status', 'string') }}                as status,
        {{ cs_cast('updated_date', 'timestamp') }}       as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
