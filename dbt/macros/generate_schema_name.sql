{#- Marts land in exactly the UDP dataset names (mart_general, mart_taskforce,
    mart_course_offering, udp_distributions, mart_helper): a model's custom schema is used
    as it is, never prefixed with the target's schema as dbt does by default. The var
    `dataset_prefix` (empty by default) puts a publish run's build in its own run-scoped
    datasets (`csrun_<run>__mart_general`, …; pipeline/outputs/_publish.py). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ var('dataset_prefix', '') }}{{ target.schema }}
    {%- else -%}
        {{ var('dataset_prefix', '') }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
