-- Source-system ids of academic_organization. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store_keymap', 'academic_organization') }}

),

renamed as (

    select
        {{ cs_cast('id', 'int64') }}             as academic_organization_id,
        {{ cs_cast('lms_int_id', 'string') }}    as lms_int_id,
        {{ cs_cast('lms_ext_id', 'string') }}    as lms_ext_id,
        {{ cs_cast('sis_ext_id', 'string') }}    as sis_ext_id
    from source

),

final as (

    select * from renamed

)

select * from final
