{#- The two per-day tool marts (mart_general.lms_tool, mart_general.lti_tool) in two steps.

    daily_tool_use: the course events matching `where`, counted per person, role, course
    offering, day and the two `used` columns: a narrow helper table (ids, keys, counts).
    used: two [expression, name] pairs (what was used, e.g. tool and asset type);
    measure, measures: what a row counts (`launch`, `launches`), naming num_<measures>,
    first_<measure>_time and last_<measure>_time.

    daily_tool_use_described: the mart, a view of those counted rows with the person's
    source-system ids and the course's described columns beside them. A view because the
    eleven course columns repeated on millions of rows were most of the mart's build time
    and file size (5,000 FTE, one term: 4.7 M rows, 5.7 CPU s and 135 MB written wide
    against 1.8 CPU s and 70 MB narrow); joining them to the counted rows when read costs a
    lookup in two small tables. -#}
{% macro daily_tool_use(used, where, measure, measures) %}
{%- set names = used | map('last') | list -%}
with events as (

    select * from {{ ref('int_events__in_courses') }}

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

final as (

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

)

select * from final
{% endmacro %}


{% macro daily_tool_use_described(counts, names, measure, measures) %}
with daily as (

    select * from {{ ref(counts) }}

),

offerings as (

    select * from {{ ref('int_course_offerings__described') }}

),

person_ids as (

    select * from {{ ref('stg_context_store_keymap__person') }}

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
