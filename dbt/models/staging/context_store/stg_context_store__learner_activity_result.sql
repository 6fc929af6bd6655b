-- A student's submission for an assignment (unsubmitted ones included). Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'learner_activity_result') }}

),

renamed as (

    select
        {{ cs_cast('learner_activity_result_id', 'int64') }}     as learner_activity_result_id,
        {{ cs_cast('learner_activity_id', 'int64') }}            as learner_activity_id,
        {{ cs_cast('person_id', 'int64') }}                      as person_id,
        {{ cs_cast('response_date', 'timestamp') }}              as response_date,
        {{ cs_cast('grading_status', 'string') }}                as grading_status,
        {{ cs_cast('published_score', 'float64') }}              as published_score,
        {{ cs_cast('published_grade', 'string') }}               as published_grade,
        {{ cs_cast('gradebook_status', 'string') }}              as gradebook_status,
        {{ cs_cast('graded_date', 'timestamp') }}                as graded_date,
        {{ cs_cast('posted_at', 'timestamp') }}                  as posted_at
    from source

),

final as (

    select * from renamed

)

select * from final
