-- Institution → colleges → departments. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'academic_organization') }}

),

renamed as (

    select
        {{ cs_cast('academic_organization_id', 'int64') }}            as academic_organization_id,
        {{ cs_cast('parent_academic_organization_id', 'int64') }}     as parent_academic_organization_id,
        {{ cs_cast('campus_id', 'int64') }}                           as campus_id,
        {{ cs_cast('name', 'string') }}                               as name,
        {{ cs_cast('code', 'string') }}                               as code,
        {{ cs_cast('organization_type', 'string') }}                  as organization_type,
        {{ cs_cast('cip_family', 'string') }}                         as cip_family
    from source

),

final as (

    select * from renamed

)

select * from final
