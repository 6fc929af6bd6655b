-- mart_general.lms_tool: who used which Canvas tool, on what kind of asset, in which
-- course, on which day.
{{ config(
    alias='lms_tool',
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['udp_course_offering_id', 'canvas_tool'],
) }}

with events as (

    select * from {{ ref('int_events__in_courses') }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

canvas_use as (

    select
        person_id,
        lms_person_id,
        sis_person_id,
        role,
        course_offering_id,
        event_date,
        tool as canvas_tool,
        coalesce(object_type, 'Unknown') as asset_type,
        event_time
    from events
    where ed_app_name = 'Canvas'
        and event_type <> 'ToolUseEvent'

),

daily as (

    select
        person_id,
        lms_person_id,
        sis_person_id,
        role,
        course_offering_id,
        event_date,
        canvas_tool,
        asset_type,
        count(*) as num_events,
        min(event_time) as first_event_time,
        max(event_time) as last_event_time
    from canvas_use
    group by person_id, lms_person_id, sis_person_id, role, course_offering_id, event_date,
        canvas_tool, asset_type

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
        daily.canvas_tool,
        daily.asset_type,
        daily.num_events,
        daily.first_event_time,
        daily.last_event_time
    from daily
    inner join offerings
        on daily.course_offering_id = offerings.course_offering_id

)

select * from final
