-- Events by people in courses, with who the person is in the course and the course's
-- description: the base of the tool marts.
{{ config(tags=['events'], materialized='ephemeral') }}

with events as (

    select * from {{ ref('stg_event_store__expanded') }}

),

person_ids as (

    select * from {{ ref('stg_context_store_keymap__person') }}

),

final as (

    select
        events.event_id,
        events.event_time,
        events.event_date,
        events.event_type,
        events.event_action,
        events.tool,
        events.object_type,
        events.object_name,
        events.object_entity,
        events.ed_app_id,
        events.ed_app_name,
        events.federated_session_json,
        events.course_offering_id,
        events.person_id,
        person_ids.lms_int_id as lms_person_id,
        person_ids.sis_ext_id as sis_person_id,
        case when events.membership_roles like '%Instructor%' then 'Instructor'
             when events.membership_roles like '%Learner%' then 'Learner'
             else 'Other' end as role
    from events
    left join person_ids
        on events.person_id = person_ids.person_id
    where events.person_id is not null

)

select * from final
