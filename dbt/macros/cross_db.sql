{#- The few spellings DuckDB and BigQuery disagree on. Models call only these (or dbt's own
    cross-database macros); each is dispatched on the adapter, so no model holds SQL that
    only one of the two engines understands. -#}

{#- A registry type (int64, float64, string, bool, date, timestamp) as a SQL type. Timestamps
    are instants: TIMESTAMPTZ on DuckDB (the session runs in UTC), TIMESTAMP on BigQuery.
    int32 and int8 are for keys and codes that a big sort or window carries (4 bytes and 1 on
    DuckDB; BigQuery has only INT64). -#}
{% macro cs_type(kind) -%}
    {{ return(adapter.dispatch('cs_type', 'campus_synth')(kind)) }}
{%- endmacro %}

{% macro default__cs_type(kind) -%}
    {{ {'int64': 'bigint', 'float64': 'double', 'string': 'varchar', 'bool': 'boolean',
        'date': 'date', 'timestamp': 'timestamptz', 'int32': 'integer', 'int8': 'tinyint'}[kind] }}
{%- endmacro %}

{% macro bigquery__cs_type(kind) -%}
    {{ {'int64': 'int64', 'float64': 'float64', 'string': 'string', 'bool': 'bool',
        'date': 'date', 'timestamp': 'timestamp', 'int32': 'int64', 'int8': 'int64'}[kind] }}
{%- endmacro %}

{% macro cs_cast(expr, kind) -%}
    cast({{ expr }} as {{ campus_synth.cs_type(kind) }})
{%- endmacro %}


{#- Whole days from date a to date b (b - a). -#}
{% macro cs_days_between(a, b) -%}
    {{ return(adapter.dispatch('cs_days_between', 'campus_synth')(a, b)) }}
{%- endmacro %}

{% macro default__cs_days_between(a, b) -%}
    date_diff('day', cast({{ a }} as date), cast({{ b }} as date))
{%- endmacro %}

{% macro bigquery__cs_days_between(a, b) -%}
    date_diff(cast({{ b }} as date), cast({{ a }} as date), day)
{%- endmacro %}


{#- The date n days after date d, as a DATE. -#}
{% macro cs_add_days(d, n) -%}
    {{ return(adapter.dispatch('cs_add_days', 'campus_synth')(d, n)) }}
{%- endmacro %}

{% macro default__cs_add_days(d, n) -%}
    cast(cast({{ d }} as date) + cast({{ n }} as integer) as date)
{%- endmacro %}

{% macro bigquery__cs_add_days(d, n) -%}
    date_add(cast({{ d }} as date), interval cast({{ n }} as int64) day)
{%- endmacro %}


{#- Seconds since the epoch of a timestamp, as a float. -#}
{% macro cs_epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('cs_epoch_seconds', 'campus_synth')(ts)) }}
{%- endmacro %}

{% macro default__cs_epoch_seconds(ts) -%}
    cast(epoch(cast({{ ts }} as timestamptz)) as double)
{%- endmacro %}

{% macro bigquery__cs_epoch_seconds(ts) -%}
    cast(unix_micros(cast({{ ts }} as timestamp)) as float64) / 1000000
{%- endmacro %}


{#- Microseconds since the epoch of a timestamp, as an integer: exact, and cheaper to sort
    and subtract than the timestamp or its float seconds. -#}
{% macro cs_epoch_micros(ts) -%}
    {{ return(adapter.dispatch('cs_epoch_micros', 'campus_synth')(ts)) }}
{%- endmacro %}

{% macro default__cs_epoch_micros(ts) -%}
    epoch_us(cast({{ ts }} as timestamptz))
{%- endmacro %}

{% macro bigquery__cs_epoch_micros(ts) -%}
    unix_micros(cast({{ ts }} as timestamp))
{%- endmacro %}


{#- The median of a numeric column (an aggregate). BigQuery has no exact median aggregate;
    its approximate quantiles at 1/1000 resolution serve, as in the profiler. On DuckDB
    quantile_cont holds all of a group's values in memory (it cannot spill): fine for small
    groups; over a column that grows with FTE take it from a sorted window instead, as
    default__udp_continuous_rows does. -#}
{% macro cs_median(expr) -%}
    {{ return(adapter.dispatch('cs_median', 'campus_synth')(expr)) }}
{%- endmacro %}

{% macro default__cs_median(expr) -%}
    quantile_cont({{ expr }}, 0.5)
{%- endmacro %}

{% macro bigquery__cs_median(expr) -%}
    approx_quantiles({{ expr }}, 1000)[offset(500)]
{%- endmacro %}


{#- The date of a timestamp instant, in UTC. -#}
{% macro cs_utc_date(ts) -%}
    {{ return(adapter.dispatch('cs_utc_date', 'campus_synth')(ts)) }}
{%- endmacro %}

{% macro default__cs_utc_date(ts) -%}
    {#- whole days since the epoch, as integer arithmetic: the same date as
        cast(timezone('UTC', ts) as date), without a time-zone conversion per row (ICU's
        was a third of int_learner_activity_results__flagged's CPU at 20,000 FTE);
        floor, not DuckDB's `//`, which truncates toward zero before 1970 -#}
    (date '1970-01-01' + cast(floor(epoch_us(cast({{ ts }} as timestamptz)) / 86400000000) as integer))
{%- endmacro %}

{% macro bigquery__cs_utc_date(ts) -%}
    date(cast({{ ts }} as timestamp), 'UTC')
{%- endmacro %}


{#- Week in term of a date: week 1 is the term's first seven days (day 0..6 after its begin
    date), week 2 the next seven, and so on; dates before the term give week 0 or less. -#}
{% macro cs_week_in_term(term_begin_date, d) -%}
    {{ campus_synth.cs_week_of_day_in_term(campus_synth.cs_days_between(term_begin_date, d)) }}
{%- endmacro %}

{#- The same week from the day in term (whole days since the term's begin date). -#}
{% macro cs_week_of_day_in_term(days) -%}
    cast(floor({{ days }} / 7) as {{ campus_synth.cs_type('int64') }}) + 1
{%- endmacro %}


{#- An array of the group's values, ordered (DuckDB list, BigQuery ARRAY). -#}
{% macro cs_array_agg(expr) -%}
    {{ return(adapter.dispatch('cs_array_agg', 'campus_synth')(expr)) }}
{%- endmacro %}

{% macro default__cs_array_agg(expr) -%}
    list({{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null)
{%- endmacro %}

{% macro bigquery__cs_array_agg(expr) -%}
    array_agg({{ expr }} ignore nulls order by {{ expr }})
{%- endmacro %}


{#- Model config: day partitions on a date column where the engine has them (BigQuery);
    nothing on DuckDB, whose adapter reads partition_by as a file layout. -#}
{% macro cs_date_partition(field) -%}
    {%- if target.type == 'bigquery' -%}
        {{ return({'field': field, 'data_type': 'date', 'granularity': 'day'}) }}
    {%- else -%}
        {{ return(none) }}
    {%- endif -%}
{%- endmacro %}


{#- A numeric option value as text the way the profile spells it: integral values without a
    decimal point ("10", not "10.0"), others as the engine prints them. -#}
{% macro cs_number_text(expr) -%}
    case when {{ expr }} = floor({{ expr }})
         then {{ campus_synth.cs_cast(campus_synth.cs_cast(expr, 'int64'), 'string') }}
         else {{ campus_synth.cs_cast(expr, 'string') }}
    end
{%- endmacro %}
