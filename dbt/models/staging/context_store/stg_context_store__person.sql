-- People: students first, then instructors; they persist across terms. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'person') }}

),

renamed as (

    select
        {{ cs_cast('person_id', 'int64') }}      as person_id,
        {{ cs_cast('name', 'string') }}          as name,
        {{ cs_cast('first_name', 'string') }}    as first_name,
        {{ cs_cast('last_name', 'string') }}     as last_name,
        {{ cs_cast('sex', 'string') }}           as sex
    from source

),

final as (

    select * from renamed

)

select * from final
