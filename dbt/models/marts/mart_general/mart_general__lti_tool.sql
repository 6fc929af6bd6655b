-- mart_general.lti_tool: who launched which LTI tool from which course, on which day.
{{ config(
    alias='lti_tool',
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['udp_course_offering_id', 'tool_name'],
) }}

with events as (

    select * from {{ ref('int_events__in_courses') }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

launches as (

    select
        person_id,
        lms_person_id,
        sis_person_id,
        role,
        course_offering_id,
        event_date,
        ed_app_name as launch_app_name,
        coalesce(object_name, tool) as tool_name,
        event_time
    from events
    where event_type = 'ToolUseEvent'
        and event_action = 'Used'
        and federated_session_json is not null

),

daily as (

    select
        person_id,
        lms_person_id,
        sis_person_id,
        role,
        course_offering_id,
        event_date,
        launch_app_name,
        tool_name,
        count(*) as num_launches,
        min(event_time) as first_launch_time,
        max(event_time) as last_launch_time
    from launches
    group by person_id, lms_person_id, sis_person_id, role, course_offering_id, event_date,
        launch_app_name, tool_name

),

final as (

    select
        daily.person_id as udp_person_id,
        daily.lms_person_id,
        daily.sis_person_id,
        daily.role,
        daily.course_offering_id as udp_course_offering_id,
        {{ tool_mart_course_columns('offerings') }},
        daily.event_date,
        daily.launch_app_name,
        daily.tool_name,
        daily.num_launches,
        daily.first_launch_time,
        daily.last_launch_time
    from daily
    inner join offerings
        on daily.course_offering_id = offerings.course_offering_id

)

select * from final
