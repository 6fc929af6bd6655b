-- A course's wiki (one per course), holding its pages. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'wiki') }}

),

renamed as (

    select
        {{ cs_cast('wiki_id', 'int64') }}                as wiki_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id
    from source

),

final as (

    select * from renamed

)

select * from final
