-- mart_taskforce.level2_aggregated: for every course offering and week in term, the
-- distribution of each level-1 measure over the course's students: its average, standard
-- deviation, total, and the number of students with a non-zero value.
{{ config(
    alias='level2_aggregated',
    tags=['events'],
    partition_by=cs_date_partition('week_start_date'),
    cluster_by=['udp_course_offering_id'],
) }}

{%- set measures = ['num_assignments_due', 'num_submissions', 'num_late_submissions',
                    'num_missing_submissions', 'avg_published_score_pct',
                    'num_discussion_entries', 'num_events', 'num_view_days'] %}
{%- for minutes in var('session_gap_minutes') %}
    {%- do measures.append('num_sessions_' ~ minutes ~ 'min') %}
{%- endfor %}
{%- do measures.extend(['num_tool_launches', 'num_file_views']) %}

with level1 as (

    select * from {{ ref('mart_taskforce__level1_aggregated') }}

),

final as (

    select
        udp_course_offering_id,
        udp_academic_term_id,
        week_in_term,
        week_start_date,
        week_end_date,
        count(*) as num_students,
        {%- for measure in measures %}
        {%- if measure.startswith('avg_') %}
        {{ cs_scaled_avg(measure, 1000000000) }} as avg_{{ measure }},
        {{ cs_scaled_sd(measure, 1000000000) }} as sd_{{ measure }},
        {{ cs_cast(cs_scaled_sum(measure, 1000000000), 'float64') }} as total_{{ measure }},
        {%- else %}
        {{ cs_exact('avg', measure) }} as avg_{{ measure }},
        {{ cs_exact('stddev_samp', measure) }} as sd_{{ measure }},
        {{ cs_cast('sum(' ~ measure ~ ')', 'int64') }} as total_{{ measure }},
        {%- endif %}
        {{ cs_cast('sum(case when ' ~ measure ~ ' > 0 then 1 else 0 end)', 'int64') }}
            as num_students_{{ measure }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from level1
    group by udp_course_offering_id, udp_academic_term_id, week_in_term, week_start_date,
        week_end_date

)

select * from final
