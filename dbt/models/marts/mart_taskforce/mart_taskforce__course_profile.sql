-- mart_taskforce.course_profile: every course section in its term, with the static
-- attributes of its course, its instructors, and what its students and content look like.
{{ config(alias='course_profile') }}

with sections as (

    select * from {{ ref('stg_context_store__course_section') }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

enrollments as (

    select * from {{ ref('stg_context_store__course_section_enrollment') }}

),

people as (

    select * from {{ ref('stg_context_store__person') }}

),

activities as (

    select * from {{ ref('stg_context_store__learner_activity') }}

),

results as (

    select * from {{ ref('int_learner_activity_results__flagged') }}

),

modules as (

    select * from {{ ref('stg_context_store__module') }}

),

quizzes as (

    select * from {{ ref('stg_context_store__quiz') }}

),

discussions as (

    select * from {{ ref('stg_context_store__discussion') }}

),

instructors as (

    select
        enrollments.course_section_id,
        count(distinct enrollments.person_id) as num_instructors,
        {{ cs_array_agg('people.name') }} as instructor_name_array
    from enrollments
    inner join people
        on enrollments.person_id = people.person_id
    where enrollments.role in ('Teacher', 'Faculty')
    group by enrollments.course_section_id

),

section_students as (

    select
        course_section_id,
        person_id,
        case when role_status = 'Dropped' then 0 else 1 end as is_current
    from enrollments
    where role = 'Student'

),

student_counts as (

    select course_section_id, {{ cs_cast("sum(is_current)", 'int64') }} as num_students
    from section_students
    group by course_section_id

),

section_scores as (

    select
        section_students.course_section_id,
        {{ cs_scaled_avg('results.published_score_pct', 1000000000000) }} as avg_assignment_score
    from section_students
    inner join sections
        on section_students.course_section_id = sections.course_section_id
    inner join results
        on section_students.person_id = results.person_id
        and sections.course_offering_id = results.course_offering_id
    group by section_students.course_section_id

),

assignment_counts as (

    {{ status_counts_by_offering('activities', {'num_published_assignments': 'published', 'num_unpublished_assignments': 'unpublished'}) }}

),

module_counts as (

    {{ status_counts_by_offering('modules', {'num_active_modules': 'active', 'num_unpublished_modules': 'unpublished'}) }}

),

quiz_counts as (

    {{ status_counts_by_offering('quizzes', {'num_published_quizzes': 'published', 'num_unpublished_quizzes': 'unpublished'}) }}

),

discussion_counts as (

    {{ status_counts_by_offering('discussions', {'num_active_discussions': 'active', 'num_unpublished_discussions': 'unpublished'}) }}

),

final as (

    select
        sections.course_section_id,
        sections.course_offering_id,
        offerings.academic_term_id,
        offerings.course_offering_title as course_title,
        offerings.course_offering_subject as course_subject,
        offerings.course_offering_number as course_number,
        offerings.course_offering_code as course_code,
        sections.section_number,
        offerings.course_offering_start_date as course_start_date,
        offerings.course_offering_end_date as course_end_date,
        offerings.available_credits,
        sections.delivery_mode,
        sections.max_enrollment,
        sections.status as section_status,
        offerings.course_level,
        case when offerings.course_level = '500' then 'Graduate' else 'Undergraduate' end
            as academic_career_name,
        offerings.academic_organization_name,
        instructors.instructor_name_array,
        coalesce(instructors.num_instructors, 0) as num_instructors,
        coalesce(student_counts.num_students, 0) as num_students,
        coalesce(assignment_counts.num_published_assignments, 0) as num_published_assignments,
        coalesce(assignment_counts.num_unpublished_assignments, 0)
            as num_unpublished_assignments,
        section_scores.avg_assignment_score,
        coalesce(module_counts.num_active_modules, 0) as num_active_modules,
        coalesce(module_counts.num_unpublished_modules, 0) as num_unpublished_modules,
        coalesce(quiz_counts.num_published_quizzes, 0) as num_published_quizzes,
        coalesce(quiz_counts.num_unpublished_quizzes, 0) as num_unpublished_quizzes,
        coalesce(discussion_counts.num_active_discussions, 0) as num_active_discussions,
        coalesce(discussion_counts.num_unpublished_discussions, 0)
            as num_unpublished_discussions,
        offerings.academic_term_name as term_name,
        offerings.academic_term_type as term_type,
        offerings.academic_term_start_date as term_begin_date,
        offerings.academic_term_end_date as term_end_date
    from sections
    inner join offerings
        on sections.course_offering_id = offerings.course_offering_id
    left join instructors
        on sections.course_section_id = instructors.course_section_id
    left join student_counts
        on sections.course_section_id = student_counts.course_section_id
    left join section_scores
        on sections.course_section_id = section_scores.course_section_id
    left join assignment_counts
        on sections.course_offering_id = assignment_counts.course_offering_id
    left join module_counts
        on sections.course_offering_id = module_counts.course_offering_id
    left join quiz_counts
        on sections.course_offering_id = quiz_counts.course_offering_id
    left join discussion_counts
        on sections.course_offering_id = discussion_counts.course_offering_id

)

select * from final
