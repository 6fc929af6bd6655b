-- A page of a course wiki. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'wiki_page') }}

),

renamed as (

    select
        {{ cs_cast('wiki_page_id', 'int64') }}     as wiki_page_id,
        {{ cs_cast('wiki_id', 'int64') }}          as wiki_id,
        {{ cs_cast('title', 'string') }}           as title,
        {{ cs_cast('status', 'string') }}          as status,
        {{ cs_cast('updated_date', 'timestamp') }} as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
