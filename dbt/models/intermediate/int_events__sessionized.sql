-- Students' events in their courses, each with its week in term, what kind of use it is,
-- and whether it starts a new session at each inactivity cutoff: an event starts a session
-- when it is the student's first in the course or comes more than the cutoff after the
-- previous one (vars.session_gap_minutes: 10, 20, 30).
-- A view: level 1 aggregates it at once, so its tens of millions of rows are never stored.
-- The window partitions on the student's number in the course (int_students__enrolled's
-- student_course_number), one integer instead of the (person, course) pair: the events are
-- hash-partitioned and sorted on it, and level 1 counts per number and week. At 20,000 FTE
-- (57.8 M student events) level 1's weekly counts cost 43.8 CPU s instead of 61.9 alone,
-- the same rows (benchmarks/README.md).
{{ config(tags=['events'], materialized='view') }}

with events as (

    select * from {{ ref('stg_event_store__expanded') }}

),

students as (

    select * from {{ ref('int_students__enrolled') }}

),

offerings as (

    select * from {{ ref('stg_context_store__course_offering') }}

),

terms as (

    select * from {{ ref('stg_context_store__academic_term') }}

),

student_terms as (

    -- each student's course with its term's begin date as a date, worked out once per
    -- (student, course) instead of once per event: the UTC conversion of the begin date
    -- per event was ~10 % of level 1's CPU (benchmarks/README.md)
    select
        students.person_id,
        students.course_offering_id,
        students.student_course_number,
        offerings.academic_term_id,
        {{ cs_utc_date('terms.term_begin_date') }} as term_begin_date
    from students
    inner join offerings
        on students.course_offering_id = offerings.course_offering_id
    inner join terms
        on offerings.academic_term_id = terms.academic_term_id

),

student_events as (

    select
        events.event_id,
        events.person_id,
        events.course_offering_id,
        student_terms.student_course_number,
        student_terms.academic_term_id,
        events.event_time,
        {{ cs_epoch_micros('events.event_time') }} as event_micros,
        events.event_date,
        events.tool,
        {{ cs_cast(cs_days_between('student_terms.term_begin_date', 'events.event_date'), 'int32') }}
            as day_in_term,
        -- what kind of use, one small code (the two kinds never coincide): 2 a tool launch,
        -- 1 a file view, 0 anything else
        {{ cs_cast("case when events.event_type = 'ToolUseEvent' and events.event_action = 'Used'
                  then 2
                  when events.event_type = 'NavigationEvent' and events.event_action = 'NavigatedTo'
                       and events.object_entity = 'file' then 1
                  else 0 end", 'int8') }} as use_kind
    from events
    inner join student_terms
        on events.person_id = student_terms.person_id
        and events.course_offering_id = student_terms.course_offering_id

),

gaps as (

    select
        *,
        -- the window sorts on integers: the student's number (a 32-bit integer,
        -- int_students__enrolled) and the event's microseconds since the epoch; it carries
        -- only what level 1 counts, as narrow as it goes: the day in term (the week and each
        -- day's first event follow from it) and the one-byte use code. At 20,000 FTE (57.8 M
        -- student events) level 1's weekly counts took 18.0 CPU s instead of 22.0 with the
        -- integer sort, and 21.4 instead of 25.2 from the events carrying the day and code
        -- instead of the date, a 64-bit week and two flags; the same counts
        -- (benchmarks/README.md).
        -- Ordered by time alone: events at the same instant are 0 s apart whichever comes
        -- first, so every gap, and every week's count of session starts that level 1 sums,
        -- is the same without a tie-break; only which of two simultaneous events is marked
        -- the start may differ. Sorting on the string event_id as well cost 3x the CPU.
        event_micros - lag(event_micros) over student_course as micros_since_previous,
        -- the same window marks each day's first event, so level 1 counts active days as a
        -- sum instead of a count(distinct) over millions of (student, course, week, day) keys
        lag(day_in_term) over student_course as previous_day_in_term
    from student_events
    window student_course as (partition by student_course_number order by event_micros)

),

final as (

    select
        event_id,
        person_id,
        course_offering_id,
        student_course_number,
        academic_term_id,
        event_time,
        event_date,
        tool,
        {{ cs_week_of_day_in_term('day_in_term') }} as week_in_term,
        case when use_kind = 2 then 1 else 0 end as is_tool_launch,
        case when use_kind = 1 then 1 else 0 end as is_file_view,
        micros_since_previous / 1000000.0 as seconds_since_previous,
        case when previous_day_in_term is null or previous_day_in_term <> day_in_term
             then 1 else 0 end as starts_day,
        {%- for minutes in var('session_gap_minutes') %}
        case when micros_since_previous is null or micros_since_previous > {{ minutes * 60 * 1000000 }}
             then 1 else 0 end as starts_session_{{ minutes }}min{{ "," if not loop.last }}
        {%- endfor %}
    from gaps

)

select * from final
