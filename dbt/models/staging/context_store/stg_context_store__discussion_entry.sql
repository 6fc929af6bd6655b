-- A post in a discussion, by a student enrolled in the course. Rendered by pipeline/outputs/_dbt_render.py from the registry: only renames and casts.

with source as (

    select * from {{ source('context_store', 'discussion_entry') }}

),

renamed as (

    select
        {{ cs_cast('discussion_entry_id', 'int64') }}     as discussion_entry_id,
        {{ cs_cast('discussion_id', 'int64') }}           as discussion_id,
        {{ cs_cast('person_id', 'int64') }}               as person_id,
        {{ cs_cast('status', 'string') }}                 as status,
        {{ cs_cast('created_date', 'timestamp') }}        as created_date
    from source

),

final as (

    select * from renamed

)

select * from final
