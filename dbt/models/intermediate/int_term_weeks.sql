-- The weeks of every term: week_in_term 1..n, seven days each from the term's begin date,
-- the last one ending on or after the term's end date.

with terms as (

    select * from {{ ref('stg_context_store__academic_term') }}

),

numbers as (

    {{ dbt.generate_series(60) }}

),

term_days as (

    select
        academic_term_id,
        {{ cs_utc_date('term_begin_date') }} as term_begin_date,
        {{ cs_utc_date('term_end_date') }} as term_end_date,
        {{ cs_days_between(cs_utc_date('term_begin_date'), cs_utc_date('term_end_date')) }} as last_day
    from terms

),

weeks as (

    select
        term_days.academic_term_id,
        term_days.term_begin_date,
        {{ cs_cast('numbers.generated_number', 'int64') }} as week_in_term
    from term_days
    cross join numbers
    where (numbers.generated_number - 1) * 7 <= term_days.last_day

),

final as (

    select
        academic_term_id,
        week_in_term,
        {{ cs_add_days('term_begin_date', '(week_in_term - 1) * 7') }} as week_start_date,
        {{ cs_add_days('term_begin_date', '(week_in_term - 1) * 7 + 6') }} as week_end_date
    from weeks

)

select * from final
