-- udp_distributions.context_store_distributions: Unizin's layout of the context store's
-- distributions, computed from the generated warehouse — one row per categorical value
-- (per conditional cell) with its proportion, one row per continuous field (per cell) with
-- its average, median, sd, min and max. Fields, conditionals and units are the default
-- profile's (macros/distribution_fields.sql), so the table compares with
-- `campus-synth export-distributions` of the profile the warehouse came from.
{{ config(alias='context_store_distributions') }}

{%- set fields = distribution_fields() %}

with distributions as (

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

),

final as (

    select * from distributions

)

select * from final
