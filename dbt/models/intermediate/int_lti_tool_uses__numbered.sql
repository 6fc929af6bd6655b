-- The launching applications and tools of LTI launches, numbered:
-- int_lti_tool_use__counted_daily counts per use_code, mart_general.lti_tool names it again
-- (macros/daily_tool_use.sql).
{{ config(tags=['events']) }}

{{ tool_uses_numbered(
    used=[['ed_app_name', 'launch_app_name'], ['coalesce(object_name, tool)', 'tool_name']],
    where="event_type = 'ToolUseEvent' and event_action = 'Used'"
          ~ " and federated_session_json is not null",
) }}
