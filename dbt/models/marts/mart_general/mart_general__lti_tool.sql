-- mart_general.lti_tool: who launched which LTI tool from which course, on which day (the
-- body is shared with lms_tool: macros/daily_tool_use.sql).
{{ config(
    alias='lti_tool',
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['udp_course_offering_id', 'tool_name'],
) }}

{{ daily_tool_use(
    used=[['ed_app_name', 'launch_app_name'], ['coalesce(object_name, tool)', 'tool_name']],
    where="event_type = 'ToolUseEvent' and event_action = 'Used'"
          ~ " and federated_session_json is not null",
    measure='launch',
    measures='launches',
) }}
