-- The LMS account tree (root, college and department accounts). Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'learning_environment_organization') }}

),

renamed as (

    select
        {{ cs_cast('learning_environment_organization_id', 'int64') }}                 as learning_environment_organization_id,
        {{ cs_cast('name', 'string') }}                                                as name,
        {{ cs_cast('status', 'string') }}                                              as status,
        {{ cs_cast('parent_learning_environment_organization_id', 'int64') }}          as parent_learning_environment_organization_id,
        {{ cs_cast('grandparent_learning_environment_organization_id', 'int64') }}     as grandparent_learning_environment_organization_id
    from source

),

final as (

    select * from renamed

)

select * from final
