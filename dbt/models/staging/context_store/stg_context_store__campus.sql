-- Campuses of the institution. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'campus') }}

),

renamed as (

    select
        {{ cs_cast('campus_id', 'int64') }}     as campus_id,
        {{ cs_cast('name', 'string') }}         as name,
        {{ cs_cast('code', 'string') }}         as code
    from source

),

final as (

    select * from renamed

)

select * from final
