{#- Marts land in exactly the UDP dataset names (mart_general, mart_taskforce,
    mart_course_offering, udp_distributions, mart_helper): a model's custom schema is used
    as it is, never prefixed with the target's schema as dbt does by default. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
