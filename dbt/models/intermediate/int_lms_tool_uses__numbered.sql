-- The Canvas tools and asset types used by Canvas events that are not LTI launches,
-- numbered: int_lms_tool_use__counted_daily counts per use_code, mart_general.lms_tool names
-- it again (macros/daily_tool_use.sql).
{{ config(tags=['events']) }}

{{ tool_uses_numbered(
    used=[['tool', 'canvas_tool'], ["coalesce(object_type, 'Unknown')", 'asset_type']],
    where="ed_app_name = 'Canvas' and event_type <> 'ToolUseEvent'",
) }}
