-- Email addresses of people. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'person_email') }}

),

renamed as (

    select
        {{ cs_cast('person_id', 'int64') }}         as person_id,
        {{ cs_cast('email_address', 'string') }}    as email_address
    from source

),

final as (

    select * from renamed

)

select * from final
