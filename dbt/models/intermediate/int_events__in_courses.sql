-- Events by people in courses, with the person's role in the course (as a code,
-- macros/daily_tool_use.sql): the base of the tool
-- marts, which count these per person and day first and only then look up the person's
-- source-system ids (one keymap lookup per counted row, not per event).
{{ config(tags=['events'], materialized='ephemeral') }}

with events as (

    select * from {{ ref('stg_event_store__expanded') }}

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
        {{ tool_role_code('events.membership_roles') }} as role_code
    from events
    where events.person_id is not null

)

select * from final
