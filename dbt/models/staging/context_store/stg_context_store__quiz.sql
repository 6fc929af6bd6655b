-- A quiz of a course. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'quiz') }}

),

renamed as (

    select
        {{ cs_cast('quiz_id', 'int64') }}                as quiz_id,
        {{ cs_cast('course_offering_id', 'int64') }}     as course_offering_id,
        {{ cs_cast('title', 'string') }}                 as title,
        {{ cs_cast('quiz_type', 'string') }}             as quiz_type,
        {{ cs_cast('points_possible', 'float64') }}      as points_possible,
        {{ cs_cast('status', 'string') }}                as status,
        {{ cs_cast('updated_date', 'timestamp') }}       as updated_date
    from source

),

final as (

    select * from renamed

)

select * from final
