-- Academic careers. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_career') }}

),

renamed as (

    select
        {{ cs_cast('academic_career_id', 'int64') }}     as academic_career_id,
        {{ cs_cast('code', 'string') }}                  as code,
        {{ cs_cast('description', 'string') }}           as description
    from source

),

final as (

    select * from renamed

)

select * from final
