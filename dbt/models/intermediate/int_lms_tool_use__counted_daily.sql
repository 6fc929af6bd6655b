-- Canvas events that are not LTI launches, counted per person, role, course offering, day,
-- Canvas tool and asset type: the rows of mart_general.lms_tool without its described
-- columns (macros/daily_tool_use.sql).
{{ config(
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['course_offering_id', 'canvas_tool'],
) }}

{{ daily_tool_use(
    used=[['tool', 'canvas_tool'], ["coalesce(object_type, 'Unknown')", 'asset_type']],
    where="ed_app_name = 'Canvas' and event_type <> 'ToolUseEvent'",
    measure='event',
    measures='events',
) }}
