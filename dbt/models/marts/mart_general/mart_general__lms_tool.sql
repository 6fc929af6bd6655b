-- mart_general.lms_tool: who used which Canvas tool, on what kind of asset, in which
-- course, on which day (the body is shared with lti_tool: macros/daily_tool_use.sql).
{{ config(
    alias='lms_tool',
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['udp_course_offering_id', 'canvas_tool'],
) }}

{{ daily_tool_use(
    used=[['tool', 'canvas_tool'], ["coalesce(object_type, 'Unknown')", 'asset_type']],
    where="ed_app_name = 'Canvas' and event_type <> 'ToolUseEvent'",
    measure='event',
    measures='events',
) }}
