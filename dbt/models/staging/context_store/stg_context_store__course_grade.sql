-- A student's course grade, computed from results and group weights. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'course_grade') }}

),

renamed as (

    select
        {{ cs_cast('course_section_id', 'int64') }}                         as course_section_id,
        {{ cs_cast('person_id', 'int64') }}                                 as person_id,
        {{ cs_cast('le_current_score', 'float64') }}                        as le_current_score,
        {{ cs_cast('le_final_score', 'float64') }}                          as le_final_score,
        {{ cs_cast('final_grade', 'string') }}                              as final_grade,
        {{ cs_cast('gpa_cumulative_excluding_course_grade', 'float64') }}   as gpa_cumulative_excluding_course_grade
    from source

),

final as (

    select * from renamed

)

select * from final
