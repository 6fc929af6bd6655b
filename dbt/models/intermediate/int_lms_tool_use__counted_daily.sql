-- Canvas events that are not LTI launches, counted per person, role, course offering, day
-- and use (Canvas tool and asset type, numbered in int_lms_tool_uses__numbered): the rows
-- of mart_general.lms_tool without its described columns (macros/daily_tool_use.sql).
{{ config(
    tags=['events'],
    partition_by=cs_date_partition('event_date'),
    cluster_by=['course_offering_id', 'use_code'],
) }}

{{ daily_tool_use(
    used=[['tool', 'canvas_tool'], ["coalesce(object_type, 'Unknown')", 'asset_type']],
    uses='int_lms_tool_uses__numbered',
    where="ed_app_name = 'Canvas' and event_type <> 'ToolUseEvent'",
    measure='event',
    measures='events',
) }}
