-- mart_general.lti_tool: who launched which LTI tool from which course, on which day: the
-- counted rows (int_lti_tool_use__counted_daily) with the person's ids, the app and tool of
-- their use_code and the course's described columns (the body is shared with lms_tool: macros/daily_tool_use.sql, which says
-- why this is a view).
{{ config(alias='lti_tool', tags=['events'], materialized='view') }}

{{ daily_tool_use_described(
    uses='int_lti_tool_uses__numbered',
    counts='int_lti_tool_use__counted_daily',
    names=['launch_app_name', 'tool_name'],
    measure='launch',
    measures='launches',
) }}
