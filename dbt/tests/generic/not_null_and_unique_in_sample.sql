{#- A column is never null, and unique within a sample of its values (`sample`, a condition
    on the column that two equal values always both meet, e.g. a prefix of a hash-formatted
    id): one pass over the column for both checks. For the event ids of the default run
    (63 M 45-byte strings, read from the event Parquet) dbt's own not_null and unique tests
    each read every id; this test reads them once (benchmarks/README.md). A failing row is a
    null value or a sampled value that occurs more than once. -#}
{% test not_null_and_unique_in_sample(model, column_name, sample) %}

with sampled as (

    select {{ column_name }} as value
    from {{ model }}
    where {{ column_name }} is null or ({{ sample }})

),

final as (

    select value, count(*) as occurrences
    from sampled
    group by value
    having value is null or count(*) > 1

)

select * from final

{% endtest %}
