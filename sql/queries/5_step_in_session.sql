-- Step-in-session number of each activity (fact_user_activity, clustered on
-- user_id and session_id). The seed's query, with a total order for stable output.
-- Reads the table's deduplicated view (one row per row key; sql/views/), so a row
-- written twice (a redelivery, a replay) is counted once.
SELECT
  user_id,
  session_id,
  event_timestamp,
  activity_type,
  ROW_NUMBER() OVER (
    PARTITION BY user_id, session_id
    ORDER BY event_timestamp, event_id
  ) AS step_in_session
FROM events.fact_user_activity_dedup
ORDER BY user_id, session_id, step_in_session
