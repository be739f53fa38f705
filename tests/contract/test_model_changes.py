"""The gate's comparison of models beyond the catalogue: what is not a change, and release 1.

The catalogue (``mutations/model_*.txt``) holds one fixture per kind of
model change; these are the cases where the gate must find nothing about the
model, or where the released model comes from the record beside release 1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts import toolchain
from contracts.bigquery_schema import warehouse_tables
from contracts.compatibility import REFUSED, WARNING
from contracts.descriptors import ContractImage
from contracts.gate import check
from contracts.lineage import lineages
from contracts.model_changes import compare_models
from contracts.model_record import record_path, render_record, with_recorded_model
from contracts.registry import REGISTRY, Registry
from tests.contract.scratch import ROOT, edit

INVENTORY_EVENT = "ecom/events/v1/inventory_event.proto"
FACT_INVENTORY = "ecom/warehouse/v1/fact_inventory.proto"


def _image(root: Path, work: Path) -> ContractImage:
    return ContractImage.load(toolchain.build_image(root, work), toolchain.proto_sources(root))


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> ContractImage:
    return _image(ROOT / "proto", tmp_path_factory.mktemp("current"))


def _changed(tmp_path: Path, edits: list[tuple[str, str, str]]) -> ContractImage:
    root = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", root)
    for file, old, new in edits:
        edit(root / file, old, new)
    return _image(root, tmp_path / "build")


def _release_one() -> tuple[Registry, ContractImage]:
    registry = Registry.load(ROOT / REGISTRY)
    return registry, registry.image(registry.releases[0])


def test_release_one_is_judged_by_its_recorded_model(current: ContractImage):
    _, released = _release_one()
    assert released.recorded_model, "registry/r0001.model.json is read with the image"
    tables = [
        with_recorded_model(table, released.recorded_model.get(table.name))
        for table in warehouse_tables(released)
    ]
    resolved, problems = lineages(released, tables)
    assert problems == []
    assert {lineage.table.name for lineage in resolved} == {t.name for t in tables}
    # The working tree's model is the one release 1 ran: nothing to report.
    assert compare_models(released, current) == []


def test_the_record_is_what_it_renders():
    registry, released = _release_one()
    path = record_path(ROOT / REGISTRY / registry.releases[0].image)
    tables = [
        with_recorded_model(table, released.recorded_model.get(table.name))
        for table in warehouse_tables(released)
    ]
    note = '"note": "'
    text = path.read_text()
    written_note = text.split(note, 1)[1].split('",\n', 1)[0]
    assert render_record(tables, written_note) == text


def test_a_release_without_its_model_is_a_warning_per_table(current: ContractImage):
    _, released = _release_one()
    bare = ContractImage(files=released.files, own_files=released.own_files)
    findings = compare_models(bare, current)
    assert {f.subject for f in findings} == {t.name for t in warehouse_tables(current)}
    assert all(f.verdict == WARNING for f in findings)
    assert all("model cannot be read" in f.rule for f in findings)


def test_an_event_field_renamed_under_its_number_is_no_model_change(
    current: ContractImage, tmp_path: Path
):
    changed = _changed(
        tmp_path,
        [
            (INVENTORY_EVENT, "string warehouse_id = 4", "string depot_id = 4"),
            (FACT_INVENTORY, 'source: "warehouse_id"', 'source: "depot_id"'),
        ],
    )
    assert compare_models(current, changed) == []
    lines = [finding.line() for finding in check(current, changed)]
    assert any(
        line.startswith(f"{REFUSED}: InventoryEvent.warehouse_id: field 4 renamed to depot_id")
        for line in lines
    ), lines


def test_a_source_field_made_required_is_no_model_change(current: ContractImage, tmp_path: Path):
    changed = _changed(
        tmp_path,
        [
            (
                INVENTORY_EVENT,
                "  optional string order_id = 7 [(buf.validate.field).string = {",
                "  optional string order_id = 7 [\n    (buf.validate.field).required = true,\n"
                "    (buf.validate.field).string = {",
            ),
            (INVENTORY_EVENT, "    max_len: 128\n  }];\n}", "    max_len: 128\n  }\n  ];\n}"),
        ],
    )
    assert compare_models(current, changed) == []


def test_nullif_empty_added_is_a_warning(current: ContractImage, tmp_path: Path):
    changed = _changed(
        tmp_path,
        [
            (
                FACT_INVENTORY,
                '.source = "order_id"',
                '.source = "nullif_empty(order_id)"',
            )
        ],
    )
    assert [finding.line() for finding in compare_models(current, changed)] == [
        "warning: fact_inventory.order_id: source changed from order_id to "
        "nullif_empty(order_id): where the field is empty, rows written before hold '' and "
        "rows from now on NULL; queries that read NULLIF(order_id, '') treat both alike"
    ]


def test_a_table_the_release_does_not_have_is_not_compared(current: ContractImage, tmp_path: Path):
    changed = _changed(tmp_path, [(FACT_INVENTORY, 'name: "fact_inventory"', 'name: "fact_stock"')])
    assert compare_models(current, changed) == []
    lines = [finding.line() for finding in check(current, changed)]
    assert "refused: fact_inventory: table removed; the live table stays" in lines
