{#- The body of the two per-day tool marts (mart_general.lms_tool, mart_general.lti_tool): the
    course events matching `where`, counted per person, role, course offering, day and the
    two `used` columns, with the person's source-system ids and the course's described columns
    beside them. The events are counted first and the ids joined to the counted rows: the
    person id determines them, so the grain is the same and the join sees fewer rows.
    used: two [expression, name] pairs (what was used, e.g. tool and asset type);
    measure, measures: what a row counts (`launch`, `launches`), naming num_<measures>,
    first_<measure>_time and last_<measure>_time. -#}
{% macro daily_tool_use(used, where, measure, measures) %}
{%- set names = used | map('last') | list -%}
with events as (

    select * from {{ ref('int_events__in_courses') }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

person_ids as (

    select * from {{ ref('stg_context_store_keymap__person') }}

),

used as (

    select
        person_id,
        role,
        course_offering_id,
        event_date,
        {%- for expression, name in used %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        event_time
    from events
    where {{ where }}

),

daily as (

    select
        person_id,
        role,
        course_offering_id,
        event_date,
        {{ names | join(', ') }},
        count(*) as num_{{ measures }},
        min(event_time) as first_{{ measure }}_time,
        max(event_time) as last_{{ measure }}_time
    from used
    group by person_id, role, course_offering_id, event_date, {{ names | join(', ') }}

),

final as (

    select
        daily.person_id as udp_person_id,
        person_ids.lms_int_id as lms_person_id,
        person_ids.sis_ext_id as sis_person_id,
        daily.role,
        daily.course_offering_id as udp_course_offering_id,
        {{ tool_mart_course_columns('offerings') }},
        daily.event_date,
        {%- for name in names %}
        daily.{{ name }},
        {%- endfor %}
        daily.num_{{ measures }},
        daily.first_{{ measure }}_time,
        daily.last_{{ measure }}_time
    from daily
    inner join offerings
        on daily.course_offering_id = offerings.course_offering_id
    left join person_ids
        on daily.person_id = person_ids.person_id

)

select * from final
{% endmacro %}
