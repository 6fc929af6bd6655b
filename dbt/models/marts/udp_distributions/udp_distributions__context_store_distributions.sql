-- udp_distributions.context_store_distributions: Unizin's layout of the context store's
-- distributions, computed from the generated warehouse — one row per categorical value
-- (per conditional cell) with its proportion, one row per continuous field (per cell) with
-- its average, median, sd, min and max. Fields, conditionals and units are the default
-- profile's (macros/distribution_fields.sql), so the table compares with
-- `campus-synth export-distributions` of the profile the warehouse came from.
-- The union of one part per context-store table (models/intermediate/distributions, each
-- its own query and table): one query over every field at once took DuckDB's whole memory
-- limit at 200,000 FTE (issue 16).
{{ config(alias='context_store_distributions') }}

{%- set entities = udp_distribution_entities() %}

with
{%- for entity in entities %}

{{ entity }}_rows as (

    select * from {{ ref('int_distributions__' ~ entity) }}

),
{%- endfor %}

distributions as (
    {%- for entity in entities %}

    select * from {{ entity }}_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select * from distributions

)

select * from final
