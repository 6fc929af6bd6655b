-- A student in a term: level, load and credits. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'person__academic_term') }}

),

renamed as (

    select
        {{ cs_cast('person_id', 'int64') }}                      as person_id,
        {{ cs_cast('academic_term_id', 'int64') }}               as academic_term_id,
        {{ cs_cast('cen_academic_level', 'string') }}            as cen_academic_level,
        {{ cs_cast('eot_academic_load', 'string') }}             as eot_academic_load,
        {{ cs_cast('gpa_credits_units_hours', 'float64') }}      as gpa_credits_units_hours,
        {{ cs_cast('athletic_participant_sport', 'string') }}    as athletic_participant_sport
    from source

),

final as (

    select * from renamed

)

select * from final
