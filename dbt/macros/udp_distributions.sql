{#- The SQL of udp_distributions.context_store_distributions, one field at a time (the
    fields come from distribution_fields()). udp_distribution_base selects a field's value
    (v, categorical) or measure in the profile's unit (x, continuous) with the columns it is
    conditional on (g0, g1, ...); udp_distribution_rows aggregates it into the layout;
    udp_distribution_part is the rows of one context-store table's fields, the query of its
    part model (models/intermediate/distributions, one table each), which the mart unions. -#}

{%- macro udp_distribution_entities() -%}
    {#- the context-store tables distribution_fields() describes, in its order: one part
        model (int_distributions__<table>) each -#}
    {%- set entities = [] %}
    {%- for f in distribution_fields() if f.entity not in entities %}
    {%- do entities.append(f.entity) %}
    {%- endfor %}
    {{- return(entities) }}
{%- endmacro %}

{%- macro udp_distribution_part(entity) -%}
    {#- the rows of one table's fields, each field's unconditional rows and then its
        conditional ones, in distribution_fields() order -#}
    {%- set fields = distribution_fields() | selectattr('entity', 'equalto', entity) | list %}
    {%- if not fields %}
    {{ exceptions.raise_compiler_error("distribution_fields() has no field of " ~ entity) }}
    {%- endif %}
    {%- for f in fields %}
    {{ udp_distribution_rows(f, []) }}
    {%- if f.given %}
    union all
    {{ udp_distribution_rows(f, f.given) }}
    {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

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
    {%- if f.kind == 'continuous' %}
    {{- udp_continuous_rows(f, given) }}
    {%- else %}
    {%- set g = udp_cell_columns(given) %}
    select
        {{ udp_field_columns(f) }}
        v as field_value,
        'categorical' as distribution_type,
        {%- for stat in ['avg', 'median', 'sd', 'min', 'max'] %}
        {{ cs_cast('null', 'float64') }} as {{ stat }}_field_value,
        {%- endfor %}
        'UCDM' as field_source,
        {{ cs_cast(given | length, 'int64') }} as number_of_dependencies,
        {{ cs_cast('count(*)', 'float64') }}
            / sum(count(*)) over ({% if g %}partition by {{ g | join(', ') }}{% endif %})
            as proportion,
        {{ udp_dependency_columns(given) }}
    from ({{ udp_distribution_base(f) }}) as base
    where 1 = 1
    {%- for column in g %} and {{ column }} is not null{% endfor %}
    group by {{ (g + ['v']) | join(', ') }}
    {%- endif %}
{%- endmacro %}

{%- macro udp_cell_columns(given) -%}
    {#- the names of the dependency columns of base: g0, g1, ... -#}
    {%- set g = [] %}
    {%- for item in given %}{% do g.append('g' ~ loop.index0) %}{% endfor %}
    {{- return(g) }}
{%- endmacro %}

{%- macro udp_field_columns(f) -%}
        '{{ f.entity }}' as entity,
        '{{ f.field }}' as field_name,
{%- endmacro %}

{%- macro udp_dependency_columns(given) -%}
    {#- dependency_field_names and _values of a row (null when unconditional) -#}
    {%- set g = udp_cell_columns(given) %}
    {%- if g %}
        '{{ given | map(attribute='name') | join(',') }}' as dependency_field_names,
        {{ g | join(" || ',' || ") }} as dependency_field_values
    {%- else %}
        {{ cs_cast('null', 'string') }} as dependency_field_names,
        {{ cs_cast('null', 'string') }} as dependency_field_values
    {%- endif %}
{%- endmacro %}

{%- macro udp_continuous_head(f, given) -%}
    {#- the columns of a continuous row before its statistics -#}
        {{ udp_field_columns(f) }}
        {{ cs_cast('null', 'string') }} as field_value,
        'continuous' as distribution_type,
{%- endmacro %}

{%- macro udp_continuous_tail(given) -%}
    {#- the columns of a continuous row after its statistics -#}
        'UCDM' as field_source,
        {{ cs_cast(given | length, 'int64') }} as number_of_dependencies,
        {{ cs_cast('null', 'float64') }} as proportion,
        {{ udp_dependency_columns(given) }}
{%- endmacro %}

{%- macro udp_continuous_where(given) -%}
    where x is not null
    {%- for column in udp_cell_columns(given) %} and {{ column }} is not null{% endfor %}
{%- endmacro %}

{%- macro udp_continuous_rows(f, given) -%}
    {{ return(adapter.dispatch('udp_continuous_rows', 'campus_synth')(f, given)) }}
{%- endmacro %}

{%- macro default__udp_continuous_rows(f, given) -%}
    {#- DuckDB, in memory bounded whatever the rows. Ordered aggregates (avg(x order by x))
        and quantile_cont buffer every value of a group in memory and cannot spill: at
        100,000 FTE the learner_activity_result fields ran out of the build's memory_limit.
        Here the average and sd come from exact integer sums (udp_exact_scale: the same
        result whatever the order the threads feed rows), and the median from cume_dist()
        over the values in order, a window DuckDB sorts out of core: the median is the
        smallest value with at least half the values at or below it, averaged with the
        smallest with more than half, as quantile_cont(x, 0.5) interpolates (same bits).
        Unconditional rows use a window without PARTITION BY, which spills, though the
        memory its out-of-core sort needs still grows with the rows (DuckDB 2.0, 200,000 FTE,
        learner_activity_result's 43 M response times: out of memory at 100 MB, built at
        200 MB; quantile_cont, 2.6x faster at 20,000 FTE, failed there at 100 MB on a 64 MB
        buffer of 4.3 M values); a partitioned window holds its largest cell in memory,
        so conditional cells are bounded by their largest cell (today only
        person__academic_term's gpa_credits_units_hours by eot_academic_load, one row per
        student-term). Several such windows in one query need their memory at once, which is
        why each table's fields are a query (and a part model) of their own. -#}
    {%- set g = udp_cell_columns(given) %}
    {%- set scale = udp_exact_scale(f) %}
    select
        {{ udp_continuous_head(f, given) }}
        {{ cs_avg_of_sums('n', 's1', scale) }} as avg_field_value,
        median_lo * 0.5 + median_hi * 0.5 as median_field_value,
        {{ cs_sd_of_sums('n', 's1', 's2', scale) }} as sd_field_value,
        min_x as min_field_value,
        max_x as max_field_value,
        {{ udp_continuous_tail(given) }}
    from (
        select
            {%- for column in g %}
            {{ column }},
            {%- endfor %}
            count(*) as n,
            sum(round(x * {{ scale }})::hugeint) as s1,
            sum(round(x * {{ scale }})::hugeint * round(x * {{ scale }})::hugeint) as s2,
            min(x) as min_x,
            max(x) as max_x,
            min(x) filter (where at_or_below >= 0.5) as median_lo,
            min(x) filter (where at_or_below > 0.5) as median_hi
        from (
            select
                {%- for column in g %}
                {{ column }},
                {%- endfor %}
                x,
                cume_dist() over ({% if g %}partition by {{ g | join(', ') }} {% endif %}order by x)
                    as at_or_below
            from ({{ udp_distribution_base(f) }}) as base
            {{ udp_continuous_where(given) }}
        ) as ranked
        {%- if g %}
        group by {{ g | join(', ') }}
        {%- endif %}
    ) as cells
{%- endmacro %}

{%- macro bigquery__udp_continuous_rows(f, given) -%}
    {#- BigQuery: its own aggregates (the median approximate, cs_median) -#}
    {%- set g = udp_cell_columns(given) %}
    select
        {{ udp_continuous_head(f, given) }}
        avg(x) as avg_field_value,
        {{ cs_median('x') }} as median_field_value,
        stddev_samp(x) as sd_field_value,
        min(x) as min_field_value,
        max(x) as max_field_value,
        {{ udp_continuous_tail(given) }}
    from ({{ udp_distribution_base(f) }}) as base
    {{ udp_continuous_where(given) }}
    {%- if g %}
    group by {{ g | join(', ') }}
    {%- endif %}
{%- endmacro %}

{%- macro udp_exact_scale(f) -%}
    {#- x is summed as the integer round(x * scale), exactly (HUGEINT; an overflow is an
        error, never a wrong figure). Integers: 1 (exact). Hours between two timestamps:
        microseconds per hour (exact for microsecond timestamps). Fractions (of a term, of
        the points possible): 1e12, each value within 5e-13 of its double. Other doubles
        (GPAs, credit hours, weights): 1e9, exact for up to nine decimals. Ranges: the sum
        of squares holds 1.7e38, i.e. 1e9 values up to 1e5 (hours), 400 (fractions) or
        4e5 (other doubles, scaled 1e9). -#}
    {%- if f.unit in ('hours_from_due', 'hours_from_response') %}{{ return(3600000000) }}
    {%- elif f.unit in ('fraction_of_term', 'fraction_of_points_possible') %}{{ return(1000000000000) }}
    {%- elif f.type == 'int64' %}{{ return(1) }}
    {%- else %}{{ return(1000000000) }}
    {%- endif %}
{%- endmacro %}
