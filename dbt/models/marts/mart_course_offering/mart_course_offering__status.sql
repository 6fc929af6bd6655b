-- mart_course_offering.status: every course offering's LMS status and size.
{{ config(alias='status') }}

with offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

final as (

    select
        course_offering_id as udp_course_offering_id,
        lms_course_offering_id,
        sis_course_offering_id,
        le_status as status,
        num_students,
        num_sections,
        academic_term_id as udp_academic_term_id,
        academic_term_name,
        academic_term_start_date,
        course_offering_title,
        course_offering_subject,
        course_offering_number,
        course_offering_code
    from offerings

)

select * from final
