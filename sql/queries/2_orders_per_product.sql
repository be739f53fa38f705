-- Orders, items sold and revenue per product (fact_order_item, clustered on
-- product_id). Lines come from each order's placed event only, so an order with
-- several status events is counted once. The seed's query.
-- Reads the table's deduplicated view (one row per row key; sql/views/), so a row
-- written twice (a redelivery, a replay) is counted once.
SELECT
  product_id,
  MAX(product_name) AS product_name, -- pick any
  COUNT(DISTINCT order_id) AS orders,
  SUM(quantity) AS total_items_sold,
  SUM(total_amount) AS total_revenue
FROM
  events.fact_order_item_dedup
GROUP BY
  product_id
ORDER BY
  product_id
