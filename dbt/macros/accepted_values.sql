{#- dbt's accepted_values test, with each quoted value escaped the engine's way
    (dbt.escape_single_quotes: '' on DuckDB, \' on BigQuery) so option values such as
    "Men's Basketball" work on both targets. dbt dispatches the test from its own
    namespace, which looks in the root project first. -#}
{% macro default__test_accepted_values(model, column_name, values, quote=True) %}

with all_values as (

    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}

),

final as (

    select *
    from all_values
    where value_field not in (
        {%- for value in values %}
        {% if quote %}'{{ dbt.escape_single_quotes(value) }}'{% else %}{{ value }}{% endif %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    )

)

select * from final

{% endmacro %}
