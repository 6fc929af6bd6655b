-- LTI launches counted per person, role, course offering, day, launching app and tool: the
-- rows of mart_general.lti_tool without its described columns (macros/daily_tool_use.sql).
{{ config(
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['course_offering_id', 'tool_name'],
) }}

{{ daily_tool_use(
    used=[['ed_app_name', 'launch_app_name'], ['coalesce(object_name, tool)', 'tool_name']],
    where="event_type = 'ToolUseEvent' and event_action = 'Used'"
          ~ " and federated_session_json is not null",
    measure='launch',
    measures='launches',
) }}
