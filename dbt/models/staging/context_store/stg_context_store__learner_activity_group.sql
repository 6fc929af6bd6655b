-- A Canvas assignment group with its weight. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'learner_activity_group') }}

),

renamed as (

    select
        {{ cs_cast('learner_activity_group_id', 'int64') }}     as learner_activity_group_id,
        {{ cs_cast('course_offering_id', 'int64') }}            as course_offering_id,
        {{ cs_cast('name', 'string') }}                         as name,
        {{ cs_cast('group_weight', 'float64') }}                as group_weight,
        {{ cs_cast('status', 'string') }}                       as status,
        {{ cs_cast('drop_lowest_amount', 'int64') }}            as drop_lowest_amount,
        {{ cs_cast('drop_highest_amount', 'int64') }}           as drop_highest_amount
    from source

),

final as (

    select * from renamed

)

select * from final
