-- A Canvas assignment. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'learner_activity') }}

),

renamed as (

    select
        {{ cs_cast('learner_activity_id', 'int64') }}           as learner_activity_id,
        {{ cs_cast('course_offering_id', 'int64') }}            as course_offering_id,
        {{ cs_cast('learner_activity_group_id', 'int64') }}     as learner_activity_group_id,
        {{ cs_cast('title', 'string') }}                        as title,
        {{ cs_cast('due_date', 'timestamp') }}                  as due_date,
        {{ cs_cast('points_possible', 'float64') }}             as points_possible,
        {{ cs_cast('status', 'string') }}                       as status,
        {{ cs_cast('visibility', 'string') }}                   as visibility,
        {{ cs_cast('updated_date', 'timestamp') }}              as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
