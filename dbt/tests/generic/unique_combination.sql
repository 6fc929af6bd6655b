{#- A composite key is unique: no combination of `columns` occurs twice (dbt_utils has the
    same test; campus-synth installs no dbt packages, so it is its own). -#}
{% test unique_combination(model, columns) %}

with keys as (

    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}

),

final as (

    select * from keys where occurrences > 1

)

select * from final

{% endtest %}
