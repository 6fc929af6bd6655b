-- Source-system ids of learner_activity. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store_keymap', 'learner_activity') }}

),

renamed as (

    select
        {{ cs_cast('id', 'int64') }}             as learner_activity_id,
        {{ cs_cast('lms_int_id', 'string') }}    as lms_int_id,
        {{ cs_cast('lms_ext_id', 'string') }}    as lms_ext_id,
        {{ cs_cast('sis_ext_id', 'string') }}    as sis_ext_id
    from source

),

final as (

    select * from renamed

)

select * from final
