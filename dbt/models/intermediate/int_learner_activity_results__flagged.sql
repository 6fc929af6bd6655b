-- Every learner activity result with the rules level 1 counts by:
--   submitted  it has a response date;
--   late       submitted after its assignment's due date;
--   missing    its assignment has a due date and it was never submitted;
-- and the weeks in term of its due date and of its submission.

with results as (

    select * from {{ ref('stg_context_store__learner_activity_result') }}

),

activities as (

    select * from {{ ref('stg_context_store__learner_activity') }}

),

offerings as (

    select * from {{ ref('stg_context_store__course_offering') }}

),

terms as (

    select * from {{ ref('stg_context_store__academic_term') }}

),

joined as (

    select
        results.learner_activity_result_id,
        results.learner_activity_id,
        results.person_id,
        activities.course_offering_id,
        offerings.academic_term_id,
        activities.due_date,
        results.response_date,
        results.published_score,
        activities.points_possible,
        {{ cs_utc_date('terms.term_begin_date') }} as term_begin_date
    from results
    inner join activities
        on results.learner_activity_id = activities.learner_activity_id
    inner join offerings
        on activities.course_offering_id = offerings.course_offering_id
    inner join terms
        on offerings.academic_term_id = terms.academic_term_id

),

flagged as (

    select
        learner_activity_result_id,
        learner_activity_id,
        person_id,
        course_offering_id,
        academic_term_id,
        due_date,
        response_date,
        case when response_date is not null then 1 else 0 end as is_submitted,
        case when response_date is not null and due_date is not null
                  and response_date > due_date then 1 else 0 end as is_late,
        case when response_date is null and due_date is not null then 1 else 0 end
            as is_missing,
        case when due_date is not null
             then {{ cs_week_in_term('term_begin_date', cs_utc_date('due_date')) }}
        end as due_week_in_term,
        case when response_date is not null
             then {{ cs_week_in_term('term_begin_date', cs_utc_date('response_date')) }}
        end as submission_week_in_term,
        case when response_date is not null and due_date is not null
             then ({{ cs_epoch_seconds('due_date') }} - {{ cs_epoch_seconds('response_date') }}) / 3600
        end as time_buffer_hours,
        case when published_score is not null and points_possible > 0
             then 100 * published_score / points_possible
        end as published_score_pct
    from joined

),

final as (

    select * from flagged

)

select * from final
