{#- The SQL of udp_distributions.context_store_distributions, one field at a time (the
    fields come from distribution_fields()). udp_distribution_base selects a field's value
    (v, categorical) or measure in the profile's unit (x, continuous) with the columns it is
    conditional on (g0, g1, ...); udp_distribution_rows aggregates it into the layout. -#}

{%- macro udp_distribution_base(f) -%}
    {#- select g0.., v (categorical) or x (continuous) for one field -#}
    {%- set stg = 'stg_context_store__' ~ f.entity -%}
    select
        {%- for g in f.given %}
        {%- if g.parent is defined %}
        {{ cs_cast('p' ~ loop.index0 ~ '.' ~ g.column, 'string') }} as g{{ loop.index0 }},
        {%- else %}
        {{ cs_cast('t.' ~ g.name, 'string') }} as g{{ loop.index0 }},
        {%- endif %}
        {%- endfor %}
        {%- if f.kind == 'categorical' %}
        {%- if f.entity == 'course_section' and f.field == 'academic_session_id' %}
        sessions.name as v
        {%- elif f.type == 'string' %}
        t.{{ f.field }} as v
        {%- else %}
        {{ cs_number_text('t.' ~ f.field) }} as v
        {%- endif %}
        {%- elif f.unit == 'fraction_of_term' %}
        case when t.{{ f.field }} is null then null else
            least(greatest(
                ({{ cs_epoch_seconds('t.' ~ f.field) }} - {{ cs_epoch_seconds('terms.term_begin_date') }})
                / ({{ cs_epoch_seconds('terms.term_end_date') }} - {{ cs_epoch_seconds('terms.term_begin_date') }}),
            0), 1)
        end as x
        {%- elif f.unit == 'fraction_of_points_possible' %}
        t.{{ f.field }} / activities.points_possible as x
        {%- elif f.unit == 'hours_from_due' %}
        ({{ cs_epoch_seconds('t.' ~ f.field) }} - {{ cs_epoch_seconds('activities.due_date') }}) / 3600 as x
        {%- elif f.unit == 'hours_from_response' %}
        ({{ cs_epoch_seconds('t.' ~ f.field) }} - {{ cs_epoch_seconds('t.response_date') }}) / 3600 as x
        {%- else %}
        {{ cs_cast('t.' ~ f.field, 'float64') }} as x
        {%- endif %}
    from {{ ref(stg) }} as t
    {%- for g in f.given if g.parent is defined %}
    left join {{ ref('stg_context_store__' ~ g.parent) }} as p{{ loop.index0 }}
        on t.{{ g.fk }} = p{{ loop.index0 }}.{{ g.parent_key }}
    {%- endfor %}
    {%- if f.entity == 'course_section' and f.field == 'academic_session_id' %}
    left join {{ ref('stg_context_store__academic_session') }} as sessions
        on t.academic_session_id = sessions.academic_session_id
    {%- elif f.unit == 'fraction_of_term' %}
    inner join {{ ref('stg_context_store__course_offering') }} as offerings
        on t.course_offering_id = offerings.course_offering_id
    inner join {{ ref('stg_context_store__academic_term') }} as terms
        on offerings.academic_term_id = terms.academic_term_id
    where terms.term_end_date > terms.term_begin_date
    {%- elif f.unit == 'fraction_of_points_possible' %}
    inner join {{ ref('stg_context_store__learner_activity') }} as activities
        on t.learner_activity_id = activities.learner_activity_id
    where activities.points_possible > 0 and t.{{ f.field }} is not null
    {%- elif f.unit == 'hours_from_due' %}
    inner join {{ ref('stg_context_store__learner_activity') }} as activities
        on t.learner_activity_id = activities.learner_activity_id
    where t.{{ f.field }} is not null and activities.due_date is not null
    {%- elif f.unit == 'hours_from_response' %}
    where t.{{ f.field }} is not null and t.response_date is not null
    {%- endif %}
{%- endmacro %}

{%- macro udp_distribution_rows(f, given) -%}
    {#- the rows of one field: unconditional when `given` is empty, else per cell -#}
    {%- set g = [] %}
    {%- for item in given %}{% do g.append('g' ~ loop.index0) %}{% endfor %}
    select
        '{{ f.entity }}' as entity,
        '{{ f.field }}' as field_name,
        {%- if f.kind == 'categorical' %}
        v as field_value,
        'categorical' as distribution_type,
        {%- for stat in ['avg', 'median', 'sd', 'min', 'max'] %}
        {{ cs_cast('null', 'float64') }} as {{ stat }}_field_value,
        {%- endfor %}
        {%- else %}
        {{ cs_cast('null', 'string') }} as field_value,
        'continuous' as distribution_type,
        {{ cs_stable('avg', 'x') }} as avg_field_value,
        {{ cs_median('x') }} as median_field_value,
        {{ cs_stable('stddev_samp', 'x') }} as sd_field_value,
        min(x) as min_field_value,
        max(x) as max_field_value,
        {%- endif %}
        'UCDM' as field_source,
        {{ cs_cast(given | length, 'int64') }} as number_of_dependencies,
        {%- if f.kind == 'categorical' %}
        {{ cs_cast('count(*)', 'float64') }}
            / sum(count(*)) over ({% if g %}partition by {{ g | join(', ') }}{% endif %})
            as proportion,
        {%- else %}
        {{ cs_cast('null', 'float64') }} as proportion,
        {%- endif %}
        {%- if g %}
        '{{ given | map(attribute='name') | join(',') }}' as dependency_field_names,
        {{ g | join(" || ',' || ") }} as dependency_field_values
        {%- else %}
        {{ cs_cast('null', 'string') }} as dependency_field_names,
        {{ cs_cast('null', 'string') }} as dependency_field_values
        {%- endif %}
    from ({{ udp_distribution_base(f) }}) as base
    where {% if f.kind == 'continuous' %}x is not null{% else %}1 = 1{% endif %}
    {%- for column in g %} and {{ column }} is not null{% endfor %}
    {%- set keys = g + (['v'] if f.kind == 'categorical' else []) %}
    {%- if keys %}
    group by {{ keys | join(', ') }}
    {%- endif %}
{%- endmacro %}
