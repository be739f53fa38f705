-- Step-in-session number of each activity (fact_user_activity, clustered on
-- user_id and session_id). The seed's query, with a total order for stable output.
SELECT
  user_id,
  session_id,
  event_timestamp,
  activity_type,
  ROW_NUMBER() OVER (
    PARTITION BY user_id, session_id
    ORDER BY event_timestamp, event_id
  ) AS step_in_session
FROM events.fact_user_activity
ORDER BY user_id, session_id, step_in_session
