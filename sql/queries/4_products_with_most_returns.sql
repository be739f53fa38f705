-- Products with the most returned units (fact_inventory, clustered on product_id
-- and reason). The seed's query, with a tie-breaker so the order is stable.
-- Reads the table's deduplicated view (one row per row key; sql/views/), so a row
-- written twice (a redelivery, a replay) is counted once.
SELECT
  product_id,
  SUM(quantity_change) AS n_returns
FROM
  events.fact_inventory_dedup
GROUP BY
  product_id, reason
HAVING reason = 'return'
ORDER BY 2 DESC, 1
