-- Delivered orders per country on a day (fact_order_header: partition pruning on
-- order_date, clustering on shipping_address_country and status). The seed's query.
-- Reads the table's deduplicated view (one row per row key; sql/views/), so a row
-- written twice (a redelivery, a replay) is counted once.
SELECT
  shipping_address_country,
  COUNT(*) AS delivered_orders
FROM
  events.fact_order_header_dedup
WHERE
  order_date = '2025-12-01'
  AND status = 'delivered'
GROUP BY
  shipping_address_country
ORDER BY
  shipping_address_country
