-- A file uploaded to a course. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'file') }}

),

renamed as (

    select
        {{ cs_cast('file_id', 'int64') }}                as file_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id,
        {{ cs_cast('display_name', 'string') }}          as display_name,
        {{ cs_cast('content_type', 'string') }}          as content_type,
        {{ cs_cast('size', 'int64') }}                   as size,
        {{ cs_cast('status', 'string') }}                as status,
        {{ cs_cast('updated_date', 'timestamp') }}       as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
