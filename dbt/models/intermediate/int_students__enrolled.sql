-- Students of each course offering: one row per person and offering they hold a Student
-- enrollment in (through any of its sections), whatever the enrollment's status, numbered
-- (student_course_number): the one integer key level 1's session window partitions and
-- counts the events on, instead of the (person, course) pair.

with enrollments as (

    select * from {{ ref('stg_context_store__course_section_enrollment') }}

),

sections as (

    select * from {{ ref('stg_context_store__course_section') }}

),

student_enrollments as (

    select
        sections.course_offering_id,
        enrollments.person_id,
        case when enrollments.role_status = 'Dropped' then 0 else 1 end as is_current
    from enrollments
    inner join sections
        on enrollments.course_section_id = sections.course_section_id
    where enrollments.role = 'Student'

),

student_courses as (

    select
        course_offering_id,
        person_id,
        max(is_current) as is_current
    from student_enrollments
    group by course_offering_id, person_id

),

final as (

    select
        course_offering_id,
        person_id,
        is_current,
        -- numbered in key order, so the same enrollments always get the same numbers; a
        -- 32-bit integer (on DuckDB), since level 1's session window sorts tens of millions
        -- of events on it
        {{ cs_cast('row_number() over (order by course_offering_id, person_id)', 'int32') }}
            as student_course_number
    from student_courses

)

select * from final
