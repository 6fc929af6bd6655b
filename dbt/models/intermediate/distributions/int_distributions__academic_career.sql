-- academic_career's rows of udp_distributions.context_store_distributions (macros/udp_distributions.sql);
-- the mart is the union of one such table per context-store table.
-- Rendered by pipeline/outputs/_dbt_render.py from the default profile; do not edit.

with distributions as (
    {{ udp_distribution_part('academic_career') }}
),

final as (

    select * from distributions

)

select * from final
