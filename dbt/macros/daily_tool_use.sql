{#- The two per-day tool marts (mart_general.lms_tool, mart_general.lti_tool) in three steps.

    tool_uses_numbered: the distinct values of the two `used` columns among the course
    events matching `where`, numbered (use_code): a table of a few rows per mart.
    used: two [expression, name] pairs (what was used, e.g. tool and asset type).

    daily_tool_use: those events counted per person, role, course offering, day and use
    (the code of the two `used` values): a narrow helper table (ids, codes, counts).
    uses: the tool_uses_numbered model; measure, measures: what a row counts (`launch`,
    `launches`), naming num_<measures>, first_<measure>_time and last_<measure>_time.

    The role and the two used values are carried as integer codes through the counting and
    named again in the mart: the same values, but integers in the grouping key and in the
    counted table instead of three strings (default run: 56.6 M Canvas events into 38 M
    rows; grouping on and writing the strings was most of the table's cost,
    benchmarks/README.md). Every counted event finds its use: the numbered uses are read
    from the same events under the same condition.

    daily_tool_use_described: the mart, a view of those counted rows with the person's
    source-system ids, the use's values and the course's described columns beside them. A
    view because the eleven course columns repeated on millions of rows were most of the
    mart's build time and file size (5,000 FTE, one term: 4.7 M rows, 5.7 CPU s and 135 MB
    written wide against 1.8 CPU s and 70 MB narrow); joining them to the counted rows when
    read costs a lookup in three small tables. -#}
{% macro tool_uses_numbered(used, where) %}
{%- set names = used | map('last') | list -%}
with events as (

    select * from {{ ref('int_events__in_courses') }}

),

uses as (

    select distinct
        {%- for expression, name in used %}
        {{ expression }} as {{ name }}{{ "," if not loop.last }}
        {%- endfor %}
    from events
    where {{ where }}

),

final as (

    select
        {{ names | join(', ') }},
        row_number() over (order by {{ names | join(', ') }}) as use_code
    from uses

)

select * from final
{% endmacro %}


{% macro daily_tool_use(used, uses, where, measure, measures) %}
{%- set names = used | map('last') | list -%}
with events as (

    select * from {{ ref('int_events__in_courses') }}

),

uses as (

    select * from {{ ref(uses) }}

),

used as (

    select
        person_id,
        role_code,
        course_offering_id,
        event_date,
        {%- for expression, name in used %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        event_time
    from events
    where {{ where }}

),

coded as (

    select
        used.person_id,
        used.role_code,
        used.course_offering_id,
        used.event_date,
        uses.use_code,
        used.event_time
    from used
    -- null-safe: an event whose tool or asset type is null is counted under its null use, as
    -- the uses were numbered (select distinct keeps the null), never dropped by the join
    inner join uses
        on {% for name in names %}used.{{ name }} is not distinct from uses.{{ name }}{{ " and " if not loop.last }}{% endfor %}

),

final as (

    select
        person_id,
        role_code,
        course_offering_id,
        event_date,
        use_code,
        count(*) as num_{{ measures }},
        min(event_time) as first_{{ measure }}_time,
        max(event_time) as last_{{ measure }}_time
    from coded
    group by person_id, role_code, course_offering_id, event_date, use_code

)

select * from final
{% endmacro %}


{% macro daily_tool_use_described(counts, uses, names, measure, measures) %}
with daily as (

    select * from {{ ref(counts) }}

),

uses as (

    select * from {{ ref(uses) }}

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
        {{ tool_role_name('daily.role_code') }} as role,
        daily.course_offering_id as udp_course_offering_id,
        {{ tool_mart_course_columns('offerings') }},
        daily.event_date,
        {%- for name in names %}
        uses.{{ name }},
        {%- endfor %}
        daily.num_{{ measures }},
        daily.first_{{ measure }}_time,
        daily.last_{{ measure }}_time
    from daily
    inner join uses
        on daily.use_code = uses.use_code
    inner join offerings
        on daily.course_offering_id = offerings.course_offering_id
    left join person_ids
        on daily.person_id = person_ids.person_id

)

select * from final
{% endmacro %}


{#- The person's role in a course from the event's Caliper membership roles: 1 Instructor
    (any instructor role), 2 Learner, 3 Other; tool_role_name gives the mart's name of a
    code (UDP's lms_tool and lti_tool: Learner, Instructor). -#}
{% macro tool_role_code(roles) -%}
    case when {{ roles }} like '%Instructor%' then 1
         when {{ roles }} like '%Learner%' then 2
         else 3 end
{%- endmacro %}


{% macro tool_role_name(code) -%}
    case {{ code }} when 1 then 'Instructor' when 2 then 'Learner' else 'Other' end
{%- endmacro %}
