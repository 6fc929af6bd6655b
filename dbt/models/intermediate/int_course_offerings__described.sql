-- Course offerings with what every mart says about them: source-system ids, term,
-- department, numbers of sections and of students.

with offerings as (

    select * from {{ ref('stg_context_store__course_offering') }}

),

offering_ids as (

    select * from {{ ref('stg_context_store_keymap__course_offering') }}

),

terms as (

    select * from {{ ref('stg_context_store__academic_term') }}

),

organizations as (

    select * from {{ ref('stg_context_store__academic_organization') }}

),

sections as (

    select * from {{ ref('stg_context_store__course_section') }}

),

students as (

    select * from {{ ref('int_students__enrolled') }}

),

section_counts as (

    select course_offering_id, count(*) as num_sections
    from sections
    group by course_offering_id

),

student_counts as (

    select course_offering_id, {{ cs_cast("sum(is_current)", 'int64') }} as num_students
    from students
    group by course_offering_id

),

final as (

    select
        offerings.course_offering_id,
        offering_ids.lms_int_id as lms_course_offering_id,
        offering_ids.sis_ext_id as sis_course_offering_id,
        offerings.academic_term_id,
        terms.name as academic_term_name,
        terms.term_type as academic_term_type,
        {{ cs_utc_date('terms.term_begin_date') }} as academic_term_start_date,
        {{ cs_utc_date('terms.term_end_date') }} as academic_term_end_date,
        offerings.academic_organization_id,
        organizations.name as academic_organization_name,
        offerings.title as course_offering_title,
        offerings.subject as course_offering_subject,
        offerings.number as course_offering_number,
        offerings.le_code as course_offering_code,
        offerings.course_level,
        offerings.cip_family,
        offerings.available_credits,
        offerings.le_status,
        offerings.le_start_date as course_offering_start_date,
        offerings.le_end_date as course_offering_end_date,
        coalesce(section_counts.num_sections, 0) as num_sections,
        coalesce(student_counts.num_students, 0) as num_students
    from offerings
    left join offering_ids
        on offerings.course_offering_id = offering_ids.course_offering_id
    inner join terms
        on offerings.academic_term_id = terms.academic_term_id
    left join organizations
        on offerings.academic_organization_id = organizations.academic_organization_id
    left join section_counts
        on offerings.course_offering_id = section_counts.course_offering_id
    left join student_counts
        on offerings.course_offering_id = student_counts.course_offering_id

)

select * from final
