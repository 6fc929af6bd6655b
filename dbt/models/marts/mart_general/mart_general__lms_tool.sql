-- mart_general.lms_tool: who used which Canvas tool, on what kind of asset, in which
-- course, on which day: the counted rows (int_lms_tool_use__counted_daily) with the person's
-- ids, the tool and asset type of their use_code and the course's described columns (the body is shared with lti_tool:
-- macros/daily_tool_use.sql, which says why this is a view).
{{ config(alias='lms_tool', tags=['events'], materialized='view') }}

{{ daily_tool_use_described(
    uses='int_lms_tool_uses__numbered',
    counts='int_lms_tool_use__counted_daily',
    names=['canvas_tool', 'asset_type'],
    measure='event',
    measures='events',
) }}
