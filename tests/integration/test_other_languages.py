"""The release bundle's templates for other languages, run as their comments document them.

A producer in another language takes a registry release's bundle (``python
-m contracts bundle``: the descriptor set and one ``buf generate`` template
per language) and runs the template's command, offline. TypeScript: the
plugin and runtime from npm, the documented ``buf generate``, the generated
code compiled by ``tsc`` under ``"module": "NodeNext"`` and run by Node.js;
what it encodes is decoded and validated by the producers' Python package.
Without npm (or Node.js) the test is skipped, loudly. The Python template's
command runs in ``tests/contract/test_contracts_cli.py``; Java and Go need
protoc and protoc-gen-go, which this machine does not provide.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import ecom_contracts
from contracts.toolchain import buf_executable

ROOT = Path(__file__).resolve().parents[2]
# protobuf-es 2.13 is the newest release that supports Node.js 20 (later ones need 22).
PROTOBUF_ES = "2.13.0"
TYPESCRIPT = "5.9.3"

MAIN = """\
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OrderEventSchema,
  OrderStatus,
  PaymentMethod,
} from "./gen/ts/ecom/events/v1/order_event_pb.js";

const event = create(OrderEventSchema, {
  eventId: "ts-1",
  status: OrderStatus.PLACED,
  eventTimestamp: timestampFromDate(new Date("2025-12-01T10:00:00Z")),
  orderId: "o-ts-1",
  customer: { customerId: "c-1", name: "Ada Lovelace", email: "ada@example.com" },
  currency: "EUR",
  items: [
    { productId: "p-1", productName: "Mug", quantity: 2, unitPrice: { units: 12n, nanos: 5e8 } },
  ],
  shippingAddress: { street: "1 Main St", city: "Berlin", postalCode: "10115", country: "DE" },
  paymentMethod: PaymentMethod.CARD,
});
const wire = toBinary(OrderEventSchema, event);
console.log(toJsonString(OrderEventSchema, fromBinary(OrderEventSchema, wire)));
console.log(Array.from(wire, (b) => b.toString(16).padStart(2, "0")).join(""));
"""

TSCONFIG = {
    "compilerOptions": {
        "module": "NodeNext",
        "moduleResolution": "NodeNext",
        "target": "ES2022",
        "strict": True,
        "outDir": "dist",
    },
    "include": ["main.ts", "gen/ts/**/*.ts"],
}


def _run(argv: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    # buf from the development environment (buf-bin), npm's tools from the folder.
    path = f"{Path(buf_executable()).parent}{os.pathsep}{os.environ['PATH']}"
    completed = subprocess.run(
        argv, cwd=folder, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PATH": path},
    )  # fmt: skip
    assert completed.returncode == 0, f"{' '.join(argv)}:\n{completed.stdout}{completed.stderr}"
    return completed


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the extracted bundle of the latest release, as `make dist` writes it."""
    work = tmp_path_factory.mktemp("bundle")
    _run([sys.executable, "-m", "contracts", "bundle", "--out", str(work)], ROOT)
    (archive,) = work.glob("ecom-contracts-r*.tar.gz")
    with tarfile.open(archive) as opened:
        opened.extractall(work, filter="data")
    return work / archive.name.removesuffix(".tar.gz")


def test_the_typescript_template_generates_code_that_loads_under_nodenext(bundle: Path):
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm or Node.js not found: the TypeScript template is NOT checked")
    release = next(bundle.glob("r*.binpb")).name
    (bundle / "package.json").write_text('{"name": "producer", "private": true, "type": "module"}')
    plugin = [f"@bufbuild/protoc-gen-es@{PROTOBUF_ES}", f"typescript@{TYPESCRIPT}"]
    _run(["npm", "install", "--no-audit", "--no-fund", "--save-dev", *plugin], bundle)
    _run(["npm", "install", "--no-audit", "--no-fund", f"@bufbuild/protobuf@{PROTOBUF_ES}"], bundle)
    # The command the template documents, as it is.
    _run(["buf", "generate", release, "--template", "buf.gen.ts.yaml",
          "--path", "ecom/events/v1", "--path", "ecom/types/v1"], bundle)  # fmt: skip
    imports = (bundle / "gen/ts/ecom/events/v1/order_event_pb.ts").read_text()
    assert 'from "../../types/v1/types_pb.js";' in imports
    (bundle / "main.ts").write_text(MAIN)
    (bundle / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    _run(["npx", "--no", "--", "tsc", "-p", "."], bundle)
    ran = _run(["node", "dist/main.js"], bundle)
    as_json, as_hex = ran.stdout.splitlines()
    assert json.loads(as_json)["status"] == "ORDER_STATUS_PLACED"
    # What TypeScript encodes is an order event the producers' package accepts.
    event = ecom_contracts.decode(bytes.fromhex(as_hex), ecom_contracts.contract("order-event"))
    ecom_contracts.validate(event)
    assert (event.order_id, event.items[0].unit_price.nanos) == ("o-ts-1", 500000000)
