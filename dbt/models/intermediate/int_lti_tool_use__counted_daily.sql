-- LTI launches counted per person, role, course offering, day and use (launching app and
-- tool, numbered in int_lti_tool_uses__numbered): the rows of mart_general.lti_tool without
-- its described columns (macros/daily_tool_use.sql).
{{ config(
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['course_offering_id', 'use_code'],
) }}

{{ daily_tool_use(
    used=[['ed_app_name', 'launch_app_name'], ['coalesce(object_name, tool)', 'tool_name']],
    uses='int_lti_tool_uses__numbered',
    where="event_type = 'ToolUseEvent' and event_action = 'Used'"
          ~ " and federated_session_json is not null",
    measure='launch',
    measures='launches',
) }}
