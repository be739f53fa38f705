"""Where the generated Python classes live: top-level names no producer's service has.

protoc names a module after its ``.proto`` file (``ecom/events/v1/order_event.proto``
is ``ecom.events.v1.order_event_pb2``) and imports its dependencies the same
way, so the classes would claim the top-level packages ``ecom`` and ``buf``. A
service with a package of its own called ``ecom`` (or another copy of
``buf.validate``) would shadow them, or they it. The proto files, their
packages and the descriptor names stay as they are (buf breaking, the
registry and the Pub/Sub definitions depend on them); only the Python
modules move, by rewriting the generated modules' absolute imports after
protoc (what the ``protoletariat`` tool does):

``ecom_contracts_pb`` (the producers' wheel, ecom-contracts)
    the events, the shared types, the Pub/Sub schemas' classes and
    protovalidate's rules (``buf.validate``), with the event catalogue and
    the registry revisions;
``ecom_ingest_pb`` (the workers' wheel, ecom-ingest)
    the warehouse tables' messages and the dead-letter record, which no
    producer needs.
"""

from __future__ import annotations

import re
from typing import Final

from contracts.errors import ContractDefinitionError

PRODUCERS: Final = "ecom_contracts_pb"
"""The top-level package of the producers' generated classes (ecom-contracts)."""
PIPELINE: Final = "ecom_ingest_pb"
"""The top-level package of the pipeline's own generated classes (ecom-ingest)."""

PACKAGES: Final = {
    "ecom.events": f"{PRODUCERS}.events",
    "ecom.types": f"{PRODUCERS}.types",
    "ecom.pubsub": f"{PRODUCERS}.pubsub",
    "buf.validate": f"{PRODUCERS}.buf.validate",
    "ecom.warehouse": f"{PIPELINE}.warehouse",
    "ecom.deadletter": f"{PIPELINE}.deadletter",
}
"""Python package protoc would use (from the file's folder) → where the module really lives."""

_MOVED_ROOTS: Final = frozenset(name.split(".")[0] for name in PACKAGES)

# `from ecom.types.v1 import types_pb2 as ...` and `import ecom.types.v1.types_pb2`.
_IMPORT: Final = re.compile(r"^(from|import) ([A-Za-z_][\w.]*)", re.M)
# The module name protoc writes into every generated module (the classes' __module__).
_BUILDER: Final = re.compile(r"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, ')([\w.]+)(')")


def python_module(module: str) -> str:
    """Return where protoc's module ``module`` (``ecom.events.v1.order_event_pb2``) lives.

    Modules of other roots (``google.protobuf``) are returned as they are.
    Raises ContractDefinitionError for a module under ``ecom`` or ``buf`` that
    no entry of :data:`PACKAGES` places: a new proto folder must say which
    wheel its classes belong to.
    """
    for old in sorted(PACKAGES, key=len, reverse=True):
        if module == old or module.startswith(old + "."):
            return PACKAGES[old] + module[len(old) :]
    if module.split(".")[0] in _MOVED_ROOTS:
        raise ContractDefinitionError(
            f"no Python package for {module}: add its proto folder to "
            "contracts.python_packages.PACKAGES (the producers' or the pipeline's classes)"
        )
    return module


def proto_module(proto_file: str) -> str:
    """Return the module of ``proto_file`` (``ecom/types/v1/types.proto``: ``types_pb2``)."""
    return python_module(proto_file.removesuffix(".proto").replace("/", ".") + "_pb2")


def module_path(relative: str) -> str:
    """Return where the generated file at ``relative`` (``ecom/events/v1/x_pb2.py``) goes."""
    folder, _, name = relative.rpartition("/")
    return python_module(folder.replace("/", ".")).replace(".", "/") + "/" + name


def rewrite_imports(source: str) -> str:
    """Return a generated module (``.py`` or ``.pyi``) with its modules at their new places."""
    source = _IMPORT.sub(lambda m: f"{m.group(1)} {python_module(m.group(2))}", source)
    return _BUILDER.sub(lambda m: m.group(1) + python_module(m.group(2)) + m.group(3), source)
