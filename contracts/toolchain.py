"""The pip-installed tools behind ``make proto``: protoc (grpcio-tools) and buf (buf-bin).

buf cannot resolve ``buf/validate/validate.proto`` offline, and the project
vendors no third-party ``.proto`` source. The pinned ``protovalidate``
package carries that file's descriptor, so :func:`validate_descriptor_set`
builds a FileDescriptorSet from it, protoc compiles ``proto/`` against it with
``--descriptor_set_in``, and buf works on the resulting descriptor image.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from google.protobuf import descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2

from contracts.errors import ToolchainError

VALIDATE_PROTO = "buf/validate/validate.proto"
"""Import path of protovalidate's rules, compiled from its packaged descriptor."""


def validate_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """Return a FileDescriptorSet holding ``buf/validate/validate.proto`` and its imports.

    The descriptor comes from the pinned ``protovalidate`` package, so the rules
    compiled into the contracts are exactly the ones the runtime validator knows.
    """
    from protovalidate._gen.buf.validate import validate_pb  # the packaged descriptor

    files = descriptor_pb2.FileDescriptorSet()
    for module in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        module.DESCRIPTOR.CopyToProto(files.file.add())
    files.file.add().ParseFromString(validate_pb.desc().proto.to_binary())
    return files


def _write_validate_set(work_dir: Path) -> Path:
    """Write :func:`validate_descriptor_set` into ``work_dir`` for ``--descriptor_set_in``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / "validate.binpb"
    path.write_bytes(validate_descriptor_set().SerializeToString())
    return path


def proto_sources(proto_root: Path) -> list[str]:
    """Return the import paths of every ``.proto`` file under ``proto_root``, sorted."""
    return sorted(p.relative_to(proto_root).as_posix() for p in proto_root.rglob("*.proto"))


def protoc(args: Sequence[str]) -> None:
    """Run protoc from grpcio-tools with ``args``; raise ToolchainError with its output."""
    result = subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ToolchainError(f"protoc failed:\n{result.stderr.strip() or result.stdout.strip()}")


def build_image(proto_root: Path, work_dir: Path) -> Path:
    """Compile every file under ``proto_root`` into a descriptor image with source info.

    The image includes imports (buf needs them to resolve types) and comments
    (the generators turn them into descriptions). Returns the image's path.
    """
    validate_set = _write_validate_set(work_dir)
    image = work_dir / "image.binpb"
    protoc(
        [
            f"--descriptor_set_in={validate_set}",
            f"-I{proto_root}",
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={image}",
            *proto_sources(proto_root),
        ]
    )
    return image


def generate_python(proto_root: Path, work_dir: Path, out_dir: Path) -> None:
    """Generate Python modules and ``.pyi`` stubs for ``proto_root`` and protovalidate's rules."""
    validate_set = _write_validate_set(work_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    protoc(
        [
            f"--descriptor_set_in={validate_set}",
            f"-I{proto_root}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            VALIDATE_PROTO,
            *proto_sources(proto_root),
        ]
    )


def buf_executable() -> str:
    """Return the path of the buf binary installed by the ``buf-bin`` package."""
    beside_python = Path(sys.executable).parent / "buf"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("buf")
    if found is None:
        raise ToolchainError("buf not found: install the dev dependencies (`make venv`)")
    return found


def run_buf(args: Sequence[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run buf with ``args`` in ``cwd`` and return the finished process, whatever its status."""
    return subprocess.run(
        [buf_executable(), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def buf(args: Sequence[str], *, cwd: Path) -> str:
    """Run buf with ``args`` in ``cwd``; return its output or raise ToolchainError with it."""
    result = run_buf(args, cwd=cwd)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        raise ToolchainError(f"buf {args[0]} failed:\n{output}")
    return output
