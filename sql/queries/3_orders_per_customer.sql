-- Orders and revenue per customer (fact_order, clustered on customer_id and
-- order_id). The seed's query.
-- Reads the table's deduplicated view (one row per row key; sql/views/), so a row
-- written twice (a redelivery, a replay) is counted once.
SELECT
  customer_id,
  MAX(customer_name) AS customer_name, -- pick any
  COUNT(DISTINCT order_id) AS orders,
  SUM(total_amount) AS total_revenue
FROM
  events.fact_order_dedup
GROUP BY
  customer_id
ORDER BY
  customer_id
