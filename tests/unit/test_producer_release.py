"""``producer/release.py``: ecom-contracts versioned after the registry, and the release bundle."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType

from contracts.toolchain import buf_executable

ROOT = Path(__file__).resolve().parents[2]


def _release_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("producer_release", ROOT / "producer/release.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = _release_module()


def _scratch(tmp_path: Path) -> Path:
    for name in ("registry/index.json", "producer/pyproject.toml", "pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _versions(root: Path) -> tuple[str, str]:
    producer = (root / "producer/pyproject.toml").read_text()
    pin = (root / "pyproject.toml").read_text()
    return (
        producer.split('\nversion = "', 1)[1].split('"', 1)[0],
        pin.split('"ecom-contracts==', 1)[1].split('"', 1)[0],
    )


def test_stamp_versions_ecom_contracts_after_a_new_release(tmp_path: Path):
    root = _scratch(tmp_path)
    assert release.stamp(root) == []  # release 1: already 1.0.0
    index = json.loads((root / "registry/index.json").read_text())
    index["releases"].append({**index["releases"][-1], "number": 2, "image": "r0002.binpb"})
    (root / "registry/index.json").write_text(json.dumps(index))
    assert release.stamp(root) == [
        "producer/pyproject.toml: ecom-contracts 2.0.0",
        "pyproject.toml: ecom-ingest depends on ecom-contracts==2.0.0",
    ]
    assert _versions(root) == ("2.0.0", "2.0.0")
    producer = root / "producer/pyproject.toml"
    producer.write_text(producer.read_text().replace('version = "2.0.0"', 'version = "2.0.3"'))
    release.stamp(root)
    assert _versions(root) == ("2.0.3", "2.0.3")  # a fix of release 2 stays a fix of release 2


def test_the_bundle_is_the_release_as_released_and_buf_generates_from_it(tmp_path: Path):
    bundle = release.bundle(tmp_path / "dist")
    assert bundle.name == "ecom-contracts-r0001.tar.gz"
    with tarfile.open(bundle) as archive:
        names = set(archive.getnames())
        archive.extractall(tmp_path, filter="data")
    folder = tmp_path / "ecom-contracts-r0001"
    assert {
        "ecom-contracts-r0001/r0001.binpb",
        "ecom-contracts-r0001/buf.yaml",
        "ecom-contracts-r0001/buf.gen.yaml",
        "ecom-contracts-r0001/proto/ecom/events/v1/order_event.proto",
        "ecom-contracts-r0001/proto/ecom/types/v1/types.proto",
    } <= names
    assert (folder / "r0001.binpb").read_bytes() == (ROOT / "registry/r0001.binpb").read_bytes()
    # The README's command, with a plugin that runs here (protoc's own Python generator).
    (folder / "local.gen.yaml").write_text(
        "version: v2\nplugins:\n  - protoc_builtin: python\n"
        f"    protoc_path: {Path(sys.executable).parent / 'python-grpc-tools-protoc'}\n"
        "    out: gen\n"
    )
    subprocess.run(
        [buf_executable(), "generate", "r0001.binpb", "--template", "local.gen.yaml",
         "--path", "ecom/events/v1", "--path", "ecom/types/v1"],
        cwd=folder, check=True, capture_output=True,
    )  # fmt: skip
    generated = sorted(
        p.relative_to(folder / "gen").as_posix() for p in (folder / "gen").rglob("*.py")
    )
    assert generated == [
        "ecom/events/v1/inventory_event_pb2.py",
        "ecom/events/v1/order_event_pb2.py",
        "ecom/events/v1/user_activity_event_pb2.py",
        "ecom/types/v1/types_pb2.py",
    ]
