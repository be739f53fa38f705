"""``python -m contracts``: the toolchain's command line, its help, statuses, bundle and stamp.

``generate``, ``check``, ``gate`` and ``release`` run end to end in
``test_make_proto.py`` and ``test_compatibility_catalogue.py``; here, what
every command shares, and the two that package a release for producers:
``stamp`` (ecom-contracts versioned after the registry) and ``bundle`` (the
release for other languages).
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
from contracts.cli import COMMANDS
from contracts.toolchain import buf_executable
from tests.contract.scratch import ROOT, git, run_contracts

NAMES = [command.name for command in COMMANDS]


def _contracts(*args: str, module: str = "contracts") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_the_commands_are_the_toolchains():
    assert NAMES == ["generate", "check", "gate", "release", "bundle", "stamp"]
    listed = _contracts("--help")
    assert listed.returncode == 0
    for name in NAMES:
        assert f"    {name} " in listed.stdout
    assert "Exit status: 0 done, 1 refused" in listed.stdout


@pytest.mark.parametrize("name", NAMES)
def test_every_command_has_help_with_its_exit_statuses(name: str):
    helped = _contracts(name, "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith(f"usage: python -m contracts {name} ")
    assert "exit status: 0 " in helped.stdout
    assert ", 2 usage error" in " ".join(helped.stdout.split())


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("publish",), "invalid choice: 'publish'"),
        (("bundle",), "the following arguments are required: --out"),
        (("release", "--date", "tomorrow"), "argument --date: invalid fromisoformat value"),
        (("generate", "--check"), "unrecognized arguments: --check"),
    ],
)
def test_a_usage_error_exits_2_naming_it(argv: tuple[str, ...], said: str):
    refused = _contracts(*argv)
    assert refused.returncode == 2
    assert said in refused.stderr


def test_a_gate_baseline_without_proto_is_a_usage_error(tmp_path: Path):
    refused = _contracts("gate", "--against", str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr == f"error: {tmp_path} has no proto/\n"
    no_ref = _contracts("gate", "--against", "git:no-such-ref")
    assert no_ref.returncode == 2
    assert no_ref.stderr == "error: git:no-such-ref has no proto/\n"


def test_the_old_module_commands_are_aliases(scratch: Path):
    """``python -m contracts.generate`` and ``python -m contracts.gate`` say what the CLI says."""
    for alias, command in [
        (("contracts.gate",), ("gate",)),
        (("contracts.generate", "--check"), ("check",)),
        (("contracts.generate",), ("generate",)),
    ]:
        module, *flags = alias
        said = _contracts("--repo", str(scratch), *flags, module=module)
        expected = _contracts(*command, "--repo", str(scratch))
        assert said.returncode == expected.returncode == 0, said.stderr + expected.stderr
        assert said.stdout == expected.stdout
    for module in ("contracts.gate", "contracts.generate"):
        helped = _contracts("--help", module=module)
        assert helped.returncode == 0
        assert "An alias of `python -m contracts " in helped.stdout


def _project(tmp_path: Path) -> Path:
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
    root = _project(tmp_path)
    unchanged = run_contracts("stamp", root)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.stdout == "ecom-contracts' version already follows the release\n"
    index = json.loads((root / "registry/index.json").read_text())
    index["releases"].append({**index["releases"][-1], "number": 2, "image": "r0002.binpb"})
    (root / "registry/index.json").write_text(json.dumps(index))
    stamped = run_contracts("stamp", root)
    assert stamped.returncode == 0, stamped.stderr
    assert stamped.stdout == (
        "producer/pyproject.toml: ecom-contracts 2.0.0\n"
        "pyproject.toml: ecom-ingest depends on ecom-contracts==2.0.0\n"
    )
    assert _versions(root) == ("2.0.0", "2.0.0")
    producer = root / "producer/pyproject.toml"
    producer.write_text(producer.read_text().replace('version = "2.0.0"', 'version = "2.0.3"'))
    assert run_contracts("stamp", root).returncode == 0
    assert _versions(root) == ("2.0.3", "2.0.3")  # a fix of release 2 stays a fix of release 2


def test_stamp_refuses_a_project_without_a_version(tmp_path: Path):
    root = _project(tmp_path)
    producer = root / "producer/pyproject.toml"
    producer.write_text(producer.read_text().replace('version = "1.0.0"', 'dynamic = ["version"]'))
    refused = run_contracts("stamp", root)
    assert refused.returncode == 1
    assert refused.stderr == f'error: {producer}: no version = "R.M.P" line\n'


TEMPLATES = ["buf.gen.go.yaml", "buf.gen.java.yaml", "buf.gen.python.yaml", "buf.gen.ts.yaml"]
DOCUMENTED = ["generate", "r0001.binpb", "--path", "ecom/events/v1", "--path", "ecom/types/v1"]


def test_the_bundle_is_the_release_as_released_and_buf_generates_from_it(tmp_path: Path):
    written = _contracts("bundle", "--out", str(tmp_path / "dist"))
    assert written.returncode == 0, written.stderr
    bundle = tmp_path / "dist" / "ecom-contracts-r0001.tar.gz"
    assert written.stdout == f"wrote {bundle}\n"
    with tarfile.open(bundle) as archive:
        names = set(archive.getnames())
        archive.extractall(tmp_path, filter="data")
    folder = tmp_path / "ecom-contracts-r0001"
    assert {
        "ecom-contracts-r0001/r0001.binpb",
        "ecom-contracts-r0001/buf.yaml",
        *(f"ecom-contracts-r0001/{template}" for template in TEMPLATES),
        "ecom-contracts-r0001/proto/ecom/events/v1/order_event.proto",
        "ecom-contracts-r0001/proto/ecom/types/v1/types.proto",
    } <= names
    assert (folder / "r0001.binpb").read_bytes() == (ROOT / "registry/r0001.binpb").read_bytes()
    for template in TEMPLATES:
        shipped = (folder / template).read_text()
        assert shipped == (ROOT / "producer/buf.gen" / template).read_text()
        # One language per template, its plugins local: nothing needs the Buf Schema Registry.
        assert "remote:" not in shipped, template
        assert f"--template {template}" in shipped, "the template names its own command"
    # The Python template's documented command, as is: protoc from grpcio-tools, offline.
    subprocess.run(
        [buf_executable(), *DOCUMENTED, "--template", "buf.gen.python.yaml"],
        cwd=folder, check=True, capture_output=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )  # fmt: skip
    generated = sorted(
        p.relative_to(folder / "gen/python").as_posix()
        for p in (folder / "gen/python").rglob("*.py")
    )
    assert generated == [
        "buf/validate/validate_pb2.py",
        "ecom/events/v1/inventory_event_pb2.py",
        "ecom/events/v1/order_event_pb2.py",
        "ecom/events/v1/user_activity_event_pb2.py",
        "ecom/types/v1/types_pb2.py",
    ]
    assert (folder / "gen/python/ecom/events/v1/order_event_pb2.pyi").exists()
    # The classes load and decode what the producers' wheel encodes.
    event = ecom_contracts.examples(ecom_contracts.contract("order-event"))[0]
    loaded = subprocess.run(
        [sys.executable, "-I", "-c",
         f"import sys; sys.path.insert(0, {str(folder / 'gen/python')!r})\n"
         "from ecom.events.v1.order_event_pb2 import OrderEvent\n"
         "print(OrderEvent.FromString(bytes.fromhex(sys.argv[1])).items[0].product_name)",
         event.SerializeToString().hex()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == "Mug\n"


def test_a_release_is_bundled_only_as_it_was_released(scratch: Path, tmp_path: Path):
    """No such release; or proto/ at the commit that recorded it is not the release's."""
    out = tmp_path / "dist"
    missing = run_contracts("bundle", scratch, "--out", str(out), "--release", "7")
    assert missing.returncode == 1
    assert missing.stderr == "error: no release 7 in registry/index.json\n"
    # The scratch copy commits today's proto/ beside release 1's image: they differ.
    differs = run_contracts("bundle", scratch, "--out", str(out))
    assert differs.returncode == 1
    assert "does not compile to registry/r0001.binpb; not bundled" in differs.stderr
    assert not out.exists()
    shutil.rmtree(scratch / ".git")  # a history in which the registry was never committed
    git(scratch, "init", "-q")
    git(scratch, "add", "proto", "buf.yaml")
    git(scratch, "commit", "-qm", "contracts only")
    uncommitted = run_contracts("bundle", scratch, "--out", str(out))
    assert uncommitted.returncode == 1
    assert "registry/r0001.binpb is not committed: commit the release first" in uncommitted.stderr
