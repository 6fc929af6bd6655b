{#- The course columns the tool marts share (UDP's lms_tool and lti_tool carry the same),
    read from int_course_offerings__described under `alias`. -#}
{% macro tool_mart_course_columns(alias) -%}
        {{ alias }}.lms_course_offering_id,
        {{ alias }}.sis_course_offering_id,
        {{ alias }}.academic_term_name,
        {{ alias }}.academic_term_start_date,
        {{ alias }}.academic_organization_name as academic_organization_display,
        {{ alias }}.course_offering_title,
        {{ alias }}.course_offering_start_date,
        {{ alias }}.course_offering_subject,
        {{ alias }}.course_offering_number,
        {{ alias }}.course_offering_code,
        {{ alias }}.num_students
{%- endmacro %}


{#- Per course offering, how many rows of `relation` have each status: `counts` maps an
    output column to the status it counts (course_profile's content counts). -#}
{% macro status_counts_by_offering(relation, counts) -%}
    select
        course_offering_id,
        {%- for column, status in counts.items() %}
        {{ cs_cast("sum(case when status = '" ~ status ~ "' then 1 else 0 end)", 'int64') }}
            as {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by course_offering_id
{%- endmacro %}
