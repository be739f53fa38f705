"""The rules for changing a model, with an example of each, as the reference states them.

:mod:`contracts.model_changes` applies them; ``docs/contracts.md`` renders
:data:`RULES` (``make proto``), and the catalogue test holds every example to
the finding its fixture (``tests/contract/mutations/``) produces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contracts.compatibility import ALLOWED, REFUSED, WARNING


@dataclass(frozen=True)
class ModelRule:
    """One kind of change to a model and its verdict."""

    change: str
    verdict: str
    why: str
    """What it does to rows already written and rows from now on."""
    instead: str
    """What to do instead (or what the change needs)."""
    fixture: str
    """The catalogue fixture that makes this change (``tests/contract/mutations/<fixture>.txt``)."""
    example: str
    """A finding line the gate prints for the fixture; empty when it finds nothing."""


RULES: Final[tuple[ModelRule, ...]] = (
    ModelRule(
        "a table's `source_event` moved to another event",
        REFUSED,
        "rows written before come from one event and rows from now on from another, under the same"
        " table name",
        "a new table fed by the other event, and a backfill plan",
        "model_source_event_moved",
        "refused: fact_inventory: source_event changed from ecom.events.v1.InventoryEvent to "
        "ecom.events.v1.StockEvent: rows written before come from ecom.events.v1.InventoryEvent "
        "and rows from now on would come from ecom.events.v1.StockEvent under the same table name;"
        " add a new table fed by ecom.events.v1.StockEvent and plan a backfill",
    ),
    ModelRule(
        "a table's `lines` moved to another repeated field, added or removed",
        REFUSED,
        "the table's grain changes under the same name",
        "a new table (or a new line table), and a backfill plan",
        "model_lines_changed",
        "refused: fact_order_item: lines changed from items to returned_items: the table's grain "
        "changes under the same name; add a new table and plan a backfill",
    ),
    ModelRule(
        "a table's `only_when` changed, added or removed",
        REFUSED,
        "the table's grain changes under the same name: rows of other events than before",
        "a new table with the new grain, and a backfill plan",
        "model_only_when_changed",
        "refused: fact_order_item: only_when changed from status = ORDER_STATUS_PLACED to status ="
        " ORDER_STATUS_PAID: the table's grain changes under the same name: rows written before "
        "come from other events than rows from now on; add a new table with the new grain and plan"
        " a backfill",
    ),
    ModelRule(
        "a line table's `line_order` changed (reordered, a path added or removed, a direction "
        "flipped)",
        REFUSED,
        "the same event's lines are numbered differently, so their line numbers and keys change: a"
        " replay or redelivery of an event that landed before adds rows under new keys that the "
        "deduplicated view cannot collapse",
        "a new table (or a new line table), and a backfill plan",
        "model_line_order_reversed",
        "refused: fact_order_item.line_key: line_order changed from (-items.unit_price, "
        "items.product_id, items.product_name, items.quantity) to (items.quantity, "
        "items.product_name, items.product_id, -items.unit_price): the same event's lines would be"
        " numbered differently, so their keys change and a replay or redelivery of an event that "
        "landed before adds rows under new keys that the deduplicated view cannot collapse; add a "
        "new table (or a new line table) and plan a backfill",
    ),
    ModelRule(
        "the row key (`key_column`) changed",
        REFUSED,
        "rows already written are identified by another column: a replay of their events adds rows"
        " the deduplicated view cannot collapse",
        "a new table with the new key, and a backfill plan",
        "model_key_column_changed",
        "refused: fact_inventory: row key changed from event_id to product_id: rows already "
        "written are identified by another column, so a replay or redelivery of their events adds "
        "rows the deduplicated view cannot collapse; add a new table and plan a backfill",
    ),
    ModelRule(
        "the row key column's source changed",
        REFUSED,
        "facts already written have other keys than a replay of their events would give them",
        "a new table with the new key, and a backfill plan",
        "model_key_source_changed",
        "refused: fact_order.line_key: row key source changed from line_key(order_id) to "
        "line_key(event_id): facts already written would get other keys, so a replay or redelivery"
        " of an event that landed before adds rows the deduplicated view cannot collapse; add a "
        "new table and plan a backfill",
    ),
    ModelRule(
        "`ingestion_time_column` changed",
        REFUSED,
        "the deduplicated view would order a key's rows by another column (NULL in rows written "
        "before it was added) and may keep another row",
        "a new table, and a backfill plan",
        "model_ingestion_column_changed",
        "refused: fact_inventory: ingestion_time_column changed from ingestion_timestamp to "
        "loaded_at: the deduplicated view would order a key's rows by another column (NULL in rows"
        " written before it was added), so it may keep another row of keys already written; add a "
        "new table and plan a backfill",
    ),
    ModelRule(
        "a column's source re-pointed to another event field",
        REFUSED,
        "old rows mean one field and new rows another, and no column tells them apart (the fact "
        "tables carry no revision)",
        "keep the column; add a new NULLABLE column fed by the other field, with its migration",
        "model_source_repointed",
        "refused: fact_inventory.warehouse_id: source re-pointed from warehouse_id to product_id: "
        "rows written before hold warehouse_id and rows from now on would hold product_id, and "
        "nothing in the table tells them apart; keep this column as it is and add a new NULLABLE "
        "column fed by product_id (with its migration)",
    ),
    ModelRule(
        "a derivation swapped for another (`line_total` for `order_total`)",
        REFUSED,
        "a line's amount would become the order's, so sums over lines multiply, and old and new "
        "rows cannot be told apart",
        "keep the column; add a new NULLABLE column fed by the other derivation, with its "
        "migration",
        "model_derivation_swapped",
        "refused: fact_order_item.total_amount: derivation changed from line_total(items.quantity,"
        " items.unit_price) to order_total(items.quantity, items.unit_price): rows written before "
        "hold line_total(items.quantity, items.unit_price) and rows from now on would hold "
        "order_total(items.quantity, items.unit_price), and nothing in the table tells them apart;"
        " keep this column as it is and add a new NULLABLE column fed by "
        "order_total(items.quantity, items.unit_price) (with its migration)",
    ),
    ModelRule(
        "a derivation's arguments changed",
        REFUSED,
        "the same derivation of another field: old and new rows cannot be told apart",
        "keep the column; add a new NULLABLE column, with its migration",
        "model_derivation_arguments_changed",
        "refused: fact_order_header.shipping_address_state: arguments changed from "
        "nullif_empty(shipping_address.state) to nullif_empty(shipping_address.city): rows written"
        " before hold nullif_empty(shipping_address.state) and rows from now on would hold "
        "nullif_empty(shipping_address.city), and nothing in the table tells them apart; keep this"
        " column as it is and add a new NULLABLE column fed by nullif_empty(shipping_address.city)"
        " (with its migration)",
    ),
    ModelRule(
        "a column moved between the pipeline and a BigQuery default; a field path made a "
        "derivation or the other way round (but for `nullif_empty`)",
        REFUSED,
        "old and new rows hold different things and cannot be told apart",
        "keep the column; add a new NULLABLE column, with its migration",
        "model_source_to_default",
        "refused: fact_inventory.order_id: source changed from order_id to the BigQuery default "
        "'none': rows written before hold order_id and rows from now on would hold the BigQuery "
        "default 'none', and nothing in the table tells them apart; keep this column as it is and "
        "add a new NULLABLE column with the BigQuery default 'none' (with its migration)",
    ),
    ModelRule(
        "`nullif_empty` added around or removed from the same field",
        WARNING,
        "values keep their meaning, but where the field is empty old rows hold NULL and new rows "
        "'' (or the other way round): queries tell them apart, and `NULLIF(column, '')` treats "
        "both alike",
        "read the column as `NULLIF(column, '')`",
        "model_nullif_empty_removed",
        "warning: fact_order_header.shipping_address_state: source changed from "
        "nullif_empty(shipping_address.state) to shipping_address.state: where the field is empty,"
        " rows written before hold NULL and rows from now on ''; queries that read "
        "NULLIF(shipping_address_state, '') treat both alike",
    ),
    ModelRule(
        "a new column with a source",
        ALLOWED,
        "rows written before hold NULL there, which says the field was not read; judged by the "
        "schema checks",
        "nothing: its migration adds it",
        "coupon_on_event_and_table",
        "allowed: fact_inventory.coupon: new NULLABLE column",
    ),
    ModelRule(
        "a source written differently that resolves the same (spacing); a source field made "
        "required; an event field renamed under its number (refused as a Pub/Sub change, not as a "
        "model change); a default value changed (a schema change)",
        ALLOWED,
        "sources are compared resolved, event fields by number: nothing a row holds changes (no "
        "model finding)",
        "nothing",
        "model_derivation_whitespace",
        "",
    ),
)
"""Every kind of change to a model, refusals first."""
