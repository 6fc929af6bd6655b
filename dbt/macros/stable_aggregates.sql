{#- A floating-point aggregate whose result does not depend on the order the engine feeds it
    rows (DuckDB aggregates in parallel, so a sum, average or standard deviation of doubles
    differed in its low bits from run to run): on DuckDB an ordered aggregate, which sorts
    each group's values first; elsewhere the plain aggregate.
    `cs_stable('avg', 'x')` → `avg(x order by x)`. -#}
{% macro cs_stable(fn, expr) -%}
    {{ return(adapter.dispatch('cs_stable', 'campus_synth')(fn, expr)) }}
{%- endmacro %}

{% macro default__cs_stable(fn, expr) -%}
    {{ fn }}({{ expr }} order by {{ expr }})
{%- endmacro %}

{% macro bigquery__cs_stable(fn, expr) -%}
    {{ fn }}({{ expr }})
{%- endmacro %}
