-- mart_general.lti_tool: who launched which LTI tool from which course, on which day: the
-- counted rows (int_lti_tool_use__counted_daily) with the person's ids and the course's
-- described columns (the body is shared with lms_tool: macros/daily_tool_use.sql, which says
-- why this is a view).
{{ config(alias='lti_tool', tags=['events'], materialized='view') }}

{{ daily_tool_use_described(
    counts='int_lti_tool_use__counted_daily',
    names=['launch_app_name', 'tool_name'],
    measure='launch',
    measures='launches',
) }}
