-- event_store.expanded, its nested records read out as columns: renames and casts only.
{{ config(tags=['events']) }}

with source as (

    select * from {{ source('event_store', 'expanded') }}

),

renamed as (

    select
        {{ cs_cast('id', 'string') }}                                         as event_id,
        {{ cs_cast('type', 'string') }}                                       as event_type,
        {{ cs_cast('action', 'string') }}                                     as event_action,
        {{ cs_cast('event_time', 'timestamp') }}                              as event_time,
        {{ cs_cast('event_date', 'date') }}                                   as event_date,
        {{ cs_cast('tool', 'string') }}                                       as tool,
        {{ cs_cast('ucdm_course_offering_id', 'int64') }}                     as course_offering_id,
        {{ cs_cast(adapter.quote('person') ~ '.udp_id', 'int64') }}           as person_id,
        {{ cs_cast(adapter.quote('actor') ~ '.type', 'string') }}             as actor_type,
        {{ cs_cast(adapter.quote('object') ~ '.id', 'string') }}              as object_id,
        {{ cs_cast(adapter.quote('object') ~ '.type', 'string') }}            as object_type,
        {{ cs_cast(adapter.quote('object') ~ '.name', 'string') }}            as object_name,
        {{ cs_cast(adapter.quote('object') ~ '.entity', 'string') }}          as object_entity,
        {{ cs_cast(adapter.quote('object') ~ '.udp_id', 'int64') }}           as object_udp_id,
        {{ cs_cast(adapter.quote('generated') ~ '.type', 'string') }}         as generated_type,
        {{ cs_cast(adapter.quote('generated') ~ '.udp_id', 'int64') }}        as generated_udp_id,
        {{ cs_cast(adapter.quote('generated') ~ '.score_given', 'float64') }} as score_given,
        {{ cs_cast(adapter.quote('ed_app') ~ '.id', 'string') }}              as ed_app_id,
        {{ cs_cast(adapter.quote('ed_app') ~ '.name', 'string') }}            as ed_app_name,
        {{ cs_cast(adapter.quote('membership') ~ '.roles', 'string') }}       as membership_roles,
        {{ cs_cast(adapter.quote('session') ~ '.id', 'string') }}             as session_id,
        {{ cs_cast('federated_session_json', 'string') }}                     as federated_session_json
    from source

),

final as (

    select * from renamed

)

select * from final
