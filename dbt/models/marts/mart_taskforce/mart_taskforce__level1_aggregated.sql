-- mart_taskforce.level1_aggregated: every student in every course offering they are
-- enrolled in, week by week through the term, with what they submitted and how they used
-- the course: submissions (late, missing, buffer, score), discussion posts, active days,
-- sessions at three inactivity cutoffs, tool launches and file views. Weeks without
-- activity are rows of zeros.
{{ config(
    alias='level1_aggregated',
    tags=['events'],
    partition_by=cs_date_partition('week_start_date'),
    cluster_by=['udp_course_offering_id', 'udp_person_id'],
) }}
{#- On DuckDB, built after the lms tool counts: the two event nodes that sort or group
    tens of millions of events share one process's memory limit and two cores, and side by
    side they took 43 s and 37 s at 20,000 FTE against 20 s and 14 s one after the other
    (benchmarks/README.md). BigQuery runs them apart anyway: no order there. #}
{%- if target.type == 'duckdb' %}
-- depends_on: {{ ref('int_lms_tool_use__counted_daily') }}
{%- endif %}

with students as (

    select * from {{ ref('int_students__enrolled') }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

weeks as (

    select * from {{ ref('int_term_weeks') }}

),

results as (

    select * from {{ ref('int_learner_activity_results__flagged') }}

),

events as (

    select * from {{ ref('int_events__sessionized') }}

),

entries as (

    select * from {{ ref('stg_context_store__discussion_entry') }}

),

discussions as (

    select * from {{ ref('stg_context_store__discussion') }}

),

person_ids as (

    select * from {{ ref('stg_context_store_keymap__person') }}

),

terms as (

    select * from {{ ref('stg_context_store__academic_term') }}

),

spine as (

    select
        students.person_id,
        students.course_offering_id,
        students.student_course_number,
        offerings.academic_term_id,
        weeks.week_in_term,
        weeks.week_start_date,
        weeks.week_end_date
    from students
    inner join offerings
        on students.course_offering_id = offerings.course_offering_id
    inner join weeks
        on offerings.academic_term_id = weeks.academic_term_id

),

due_by_week as (

    select
        person_id,
        course_offering_id,
        due_week_in_term as week_in_term,
        count(*) as num_assignments_due,
        sum(is_missing) as num_missing_submissions
    from results
    where due_week_in_term is not null
    group by person_id, course_offering_id, due_week_in_term

),

submitted_by_week as (

    select
        person_id,
        course_offering_id,
        submission_week_in_term as week_in_term,
        count(*) as num_submissions,
        sum(case when due_date is not null then 1 else 0 end) as num_submissions_with_due_date,
        sum(case when due_date is null then 1 else 0 end) as num_submissions_without_due_date,
        sum(is_late) as num_late_submissions,
        -- exact sums of the values to 1e-9 (DuckDB; macros/stable_aggregates.sql): the same
        -- bits whatever order the rows come in, without sorting each group's values as an
        -- ordered aggregate does (3.6 of level 1's CPU s at 20,000 FTE)
        {{ cs_scaled_avg('time_buffer_hours', 1000000000) }} as avg_time_buffer_hours,
        {{ cs_scaled_sum('published_score_pct', 1000000000) }} as sum_published_score_pct,
        count(published_score_pct) as num_scored_submissions
    from results
    where is_submitted = 1
    group by person_id, course_offering_id, submission_week_in_term

),

entries_by_week as (

    select
        entries.person_id,
        discussions.course_offering_id,
        {{ cs_week_in_term(cs_utc_date('terms.term_begin_date'), cs_utc_date('entries.created_date')) }}
            as week_in_term,
        count(*) as num_discussion_entries
    from entries
    inner join discussions
        on entries.discussion_id = discussions.discussion_id
    inner join {{ ref('stg_context_store__course_offering') }} as course_offerings
        on discussions.course_offering_id = course_offerings.course_offering_id
    inner join terms
        on course_offerings.academic_term_id = terms.academic_term_id
    where entries.person_id is not null
    group by 1, 2, 3

),

events_by_week as (

    -- per student's number in the course (int_students__enrolled), the session window's
    -- partition: one integer key to group on and join the spine by, not the pair
    select
        student_course_number,
        week_in_term,
        count(*) as num_events,
        sum(starts_day) as num_view_days,  -- distinct days: each day's first event
        {%- for minutes in var('session_gap_minutes') %}
        sum(starts_session_{{ minutes }}min) as num_sessions_{{ minutes }}min,
        {%- endfor %}
        sum(is_tool_launch) as num_tool_launches,
        sum(is_file_view) as num_file_views
    from events
    group by student_course_number, week_in_term

),

weekly as (

    select
        spine.*,
        coalesce(due_by_week.num_assignments_due, 0) as num_assignments_due,
        coalesce(due_by_week.num_missing_submissions, 0) as num_missing_submissions,
        coalesce(submitted_by_week.num_submissions, 0) as num_submissions,
        coalesce(submitted_by_week.num_submissions_with_due_date, 0)
            as num_submissions_with_due_date,
        coalesce(submitted_by_week.num_submissions_without_due_date, 0)
            as num_submissions_without_due_date,
        coalesce(submitted_by_week.num_late_submissions, 0) as num_late_submissions,
        submitted_by_week.avg_time_buffer_hours,
        coalesce(submitted_by_week.sum_published_score_pct, 0) as sum_published_score_pct,
        coalesce(submitted_by_week.num_scored_submissions, 0) as num_scored_submissions,
        coalesce(entries_by_week.num_discussion_entries, 0) as num_discussion_entries,
        coalesce(events_by_week.num_events, 0) as num_events,
        coalesce(events_by_week.num_view_days, 0) as num_view_days,
        {%- for minutes in var('session_gap_minutes') %}
        coalesce(events_by_week.num_sessions_{{ minutes }}min, 0) as num_sessions_{{ minutes }}min,
        {%- endfor %}
        coalesce(events_by_week.num_tool_launches, 0) as num_tool_launches,
        coalesce(events_by_week.num_file_views, 0) as num_file_views
    from spine
    left join due_by_week
        on spine.person_id = due_by_week.person_id
        and spine.course_offering_id = due_by_week.course_offering_id
        and spine.week_in_term = due_by_week.week_in_term
    left join submitted_by_week
        on spine.person_id = submitted_by_week.person_id
        and spine.course_offering_id = submitted_by_week.course_offering_id
        and spine.week_in_term = submitted_by_week.week_in_term
    left join entries_by_week
        on spine.person_id = entries_by_week.person_id
        and spine.course_offering_id = entries_by_week.course_offering_id
        and spine.week_in_term = entries_by_week.week_in_term
    left join events_by_week
        on spine.student_course_number = events_by_week.student_course_number
        and spine.week_in_term = events_by_week.week_in_term

),

cumulative as (

    select
        *,
        sum(num_submissions) over to_date as cumulative_num_submissions,
        sum(sum_published_score_pct) over to_date as cumulative_sum_published_score_pct,
        sum(num_scored_submissions) over to_date as cumulative_num_scored_submissions
    from weekly
    -- partitioned on the student's number in the course (one integer), not the pair
    window to_date as (
        partition by student_course_number order by week_in_term
        rows between unbounded preceding and current row
    )

),

final as (

    select
        cumulative.person_id as udp_person_id,
        person_ids.lms_int_id as lms_person_id,
        cumulative.course_offering_id as udp_course_offering_id,
        offerings.lms_course_offering_id,
        cumulative.academic_term_id as udp_academic_term_id,
        cumulative.week_in_term,
        cumulative.week_start_date,
        cumulative.week_end_date,
        {{ cs_cast('cumulative.num_assignments_due', 'int64') }} as num_assignments_due,
        {{ cs_cast('cumulative.num_submissions', 'int64') }} as num_submissions,
        {{ cs_cast('cumulative.num_submissions_with_due_date', 'int64') }} as num_submissions_with_due_date,
        {{ cs_cast('cumulative.num_submissions_without_due_date', 'int64') }} as num_submissions_without_due_date,
        {{ cs_cast('cumulative.num_late_submissions', 'int64') }} as num_late_submissions,
        {{ cs_cast('cumulative.num_missing_submissions', 'int64') }} as num_missing_submissions,
        cumulative.avg_time_buffer_hours,
        case when cumulative.num_scored_submissions > 0
             then cumulative.sum_published_score_pct / cumulative.num_scored_submissions
        end as avg_published_score_pct,
        {{ cs_cast('cumulative.cumulative_num_submissions', 'int64') }} as cumulative_num_submissions,
        -- rounded: the running sum of doubles differs in its low bits from run to run
        case when cumulative.cumulative_num_scored_submissions > 0
             then round(cumulative.cumulative_sum_published_score_pct
                        / cumulative.cumulative_num_scored_submissions, 9)
        end as cumulative_avg_published_score_pct,
        {{ cs_cast('cumulative.num_discussion_entries', 'int64') }} as num_discussion_entries,
        {{ cs_cast('cumulative.num_events', 'int64') }} as num_events,
        {{ cs_cast('cumulative.num_view_days', 'int64') }} as num_view_days,
        {%- for minutes in var('session_gap_minutes') %}
        {{ cs_cast('cumulative.num_sessions_' ~ minutes ~ 'min', 'int64') }} as num_sessions_{{ minutes }}min,
        {%- endfor %}
        {{ cs_cast('cumulative.num_tool_launches', 'int64') }} as num_tool_launches,
        {{ cs_cast('cumulative.num_file_views', 'int64') }} as num_file_views
    from cumulative
    inner join offerings
        on cumulative.course_offering_id = offerings.course_offering_id
    left join person_ids
        on cumulative.person_id = person_ids.person_id

)

select * from final
