-- Products with the most returned units (fact_inventory, clustered on product_id
-- and reason). The seed's query, with a tie-breaker so the order is stable.
SELECT
  product_id,
  SUM(quantity_change) AS n_returns
FROM
  events.fact_inventory
GROUP BY
  product_id, reason
HAVING reason = 'return'
ORDER BY 2 DESC, 1
