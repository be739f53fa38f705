"""The contract registry: every released revision of every contract, recorded in ``registry/``.

A release stores the descriptor image of all of ``proto/`` (with comments, so
descriptions are kept) as ``registry/rNNNN.binpb``, and ``registry/index.json``
records, per release, its number, date and image hash, and per contract
(event family or fact table) its revision number and content hash. A
contract's revision only moves when its content changes.

The registry holds releases only, never deployment state: Pub/Sub revision
ids differ per project, so the pipeline names a message's registry revision
at run time, by matching the Pub/Sub schema revision's definition against the
released definitions ``make proto`` renders into the package
(:func:`pubsub_definitions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from google.protobuf import descriptor, descriptor_pb2

from contracts.bigquery_schema import warehouse_tables
from contracts.descriptors import ContractImage
from contracts.model_record import load_record, record_path
from contracts.pubsub_schema import event_messages, render_pubsub_schema

REGISTRY: Final = "registry"
INDEX: Final = "index.json"


@dataclass
class Release:
    """One released state of the contracts."""

    number: int
    date: str
    image: str
    sha256: str
    contracts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per contract name: ``{"revision": n, "sha256": ...}``."""


@dataclass
class Registry:
    """The registry folder: its releases, oldest first."""

    root: Path
    releases: list[Release] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path) -> Registry:
        """Read ``root/index.json`` (an empty registry when there is none)."""
        index = root / INDEX
        if not index.exists():
            return cls(root)
        data = json.loads(index.read_text())
        releases = [Release(**release) for release in data.get("releases", [])]
        return cls(root, releases)

    def save(self) -> None:
        """Write ``index.json`` (stable formatting, so diffs stay small)."""
        self.root.mkdir(parents=True, exist_ok=True)
        data = {"releases": [vars(release) for release in self.releases]}
        (self.root / INDEX).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def image(self, release: Release) -> ContractImage:
        """Return the descriptor image of ``release``, with the model recorded beside it if any.

        An image older than the model declarations has its model recorded in
        ``rNNNN.model.json`` (see :mod:`contracts.model_record`).
        """
        path = self.root / release.image
        files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
        own = [f.name for f in files.file if f.name.startswith("ecom/")]
        record = record_path(path)
        recorded = load_record(record) if record.exists() else {}
        return ContractImage(files=files, own_files=frozenset(own), recorded_model=recorded)

    def revision(self, contract: str) -> int:
        """Return the latest released revision of ``contract`` (0 when never released)."""
        for release in reversed(self.releases):
            if contract in release.contracts:
                return int(release.contracts[contract]["revision"])
        return 0

    def release(self, image_bytes: bytes, image: ContractImage, today: dt.date) -> Release | None:
        """Record a new release of ``image``; return it, or None when no contract changed."""
        hashes = contract_hashes(image)
        latest = self.releases[-1].contracts if self.releases else {}
        if latest and {k: v["sha256"] for k, v in latest.items()} == hashes:
            return None
        number = len(self.releases) + 1
        name = f"r{number:04d}.binpb"
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_bytes(image_bytes)
        contracts = {}
        for contract, digest in sorted(hashes.items()):
            previous = latest.get(contract)
            if previous is not None and previous["sha256"] == digest:
                contracts[contract] = previous
            else:
                contracts[contract] = {"revision": self.revision(contract) + 1, "sha256": digest}
        release = Release(
            number=number,
            date=today.isoformat(),
            image=name,
            sha256=hashlib.sha256(image_bytes).hexdigest(),
            contracts=contracts,
        )
        self.releases.append(release)
        self.save()
        return release


def _closure(message: descriptor.Descriptor) -> dict[str, bytes]:
    """Return the serialized descriptors of ``message`` and every type it uses, by name."""
    found: dict[str, bytes] = {}
    pending: list[descriptor.Descriptor | descriptor.EnumDescriptor] = [message]
    while pending:
        current = pending.pop()
        if current.full_name in found:
            continue
        if isinstance(current, descriptor.EnumDescriptor):
            enum_proto = descriptor_pb2.EnumDescriptorProto()
            current.CopyToProto(enum_proto)
            found[current.full_name] = enum_proto.SerializeToString(deterministic=True)
            continue
        message_proto = descriptor_pb2.DescriptorProto()
        current.CopyToProto(message_proto)
        found[current.full_name] = message_proto.SerializeToString(deterministic=True)
        for field_descriptor in current.fields:
            used = field_descriptor.message_type or field_descriptor.enum_type
            if used is not None:
                pending.append(used)
    return found


def contract_hashes(image: ContractImage) -> dict[str, str]:
    """Return a content hash per contract: event families by full name, tables by name.

    The hash covers the message, every type it uses, and their comments (which
    become BigQuery descriptions).
    """
    subjects: dict[str, descriptor.Descriptor] = {
        event.full_name: event for event in event_messages(image)
    }
    for table in warehouse_tables(image):
        subjects[table.name] = image.pool.FindMessageTypeByName(table.message)
    hashes = {}
    for name, message in subjects.items():
        digest = hashlib.sha256()
        for full_name, serialized in sorted(_closure(message).items()):
            digest.update(full_name.encode() + b"\0" + serialized + b"\0")
            prefix = f"{full_name}."
            for key in sorted(k for k in image.comments if k == full_name or k.startswith(prefix)):
                digest.update(key.encode() + b"\0" + image.comments[key].encode() + b"\0")
        hashes[name] = digest.hexdigest()
    return hashes


def revision_labels(registry: Registry, image: ContractImage) -> dict[str, str]:
    """Return the registry revision each contract of the working tree is: ``r2``, or ``r2+dev``.

    ``r2+dev`` means unreleased changes on top of revision 2 (``r0+dev``: never released).
    """
    latest = registry.releases[-1].contracts if registry.releases else {}
    labels = {}
    for name, digest in sorted(contract_hashes(image).items()):
        released = latest.get(name)
        revision = registry.revision(name)
        clean = released is not None and released["sha256"] == digest
        labels[name] = f"r{revision}" if clean else f"r{revision}+dev"
    return labels


def removed_fields(registry: Registry, image: ContractImage) -> dict[str, list[list[list[str]]]]:
    """Return, per event contract, the fields removed since any released revision, as JSON paths.

    A path walks from the event down to the removed field (through message
    fields, and repeated ones element by element); each step lists the keys a
    JSON producer may use for that field: its proto name and its lowerCamel
    JSON name. Producers of older revisions may still send these keys. A name
    the working tree declares again at that level is not listed.
    """
    current = {event.full_name: event for event in event_messages(image)}
    found: dict[str, set[tuple[tuple[str, ...], ...]]] = {}
    for release in registry.releases:
        for old in event_messages(registry.image(release)):
            new = current.get(old.full_name)
            if new is not None:
                _removed(old, new, (), found.setdefault(old.full_name, set()))
    return {
        name: [[list(step) for step in path] for path in sorted(paths)]
        for name, paths in sorted(found.items())
        if paths
    }


def _removed(
    old: descriptor.Descriptor,
    new: descriptor.Descriptor,
    prefix: tuple[tuple[str, ...], ...],
    paths: set[tuple[tuple[str, ...], ...]],
) -> None:
    declared = {name for field in new.fields for name in (field.name, field.json_name)}
    by_number = {field.number: field for field in new.fields}
    for before in old.fields:
        after = by_number.get(before.number)
        if after is None:
            keys = tuple(dict.fromkeys((before.name, before.json_name)))
            if not declared.intersection(keys):
                paths.add((*prefix, keys))
        elif (
            after.name == before.name
            and before.message_type is not None
            and after.message_type is not None
            and len(prefix) < 20  # recursive types
        ):
            step = tuple(dict.fromkeys((after.name, after.json_name)))
            _removed(before.message_type, after.message_type, (*prefix, step), paths)


def pubsub_definitions(registry: Registry, image: ContractImage) -> dict[str, dict[str, str]]:
    """Return, per event contract, the Pub/Sub schema definition of each of its revisions.

    Every released revision (``r1``, ``r2``...: rendered from the first
    release that holds it, as ``make proto`` rendered it then), oldest first,
    and the working tree's own when it has unreleased changes (``r2+dev``). The
    pipeline names the registry revision of a Pub/Sub schema revision by
    matching its definition against these (``ecom_contracts.registry_revision_of``).
    """
    found: dict[str, dict[str, str]] = {}
    for release in registry.releases:
        released = registry.image(release)
        for event in event_messages(released):
            number = release.contracts.get(event.full_name, {}).get("revision")
            revisions = found.setdefault(event.full_name, {})
            if number is not None and f"r{number}" not in revisions:
                revisions[f"r{number}"] = render_pubsub_schema(released, event)
    labels = revision_labels(registry, image)
    for event in event_messages(image):
        label = labels[event.full_name]
        if label.endswith("+dev"):
            found.setdefault(event.full_name, {})[label] = render_pubsub_schema(image, event)
    return {name: found[name] for name in sorted(found)}


def render_revisions_module(registry: Registry, image: ContractImage) -> str:
    """Return ``generated/ecom_contracts_pb/registry_revisions.py``: what the pipeline reports."""
    labels = json.dumps(revision_labels(registry, image), indent=4, sort_keys=True)
    # Not sort_keys: revisions stay oldest first (``r10`` after ``r9``).
    definitions = json.dumps(pubsub_definitions(registry, image), indent=4)
    removed = json.dumps(removed_fields(registry, image), indent=4, sort_keys=True)
    release = registry.releases[-1].number if registry.releases else 0
    return (
        '"""Registry revisions of the contracts this code was generated from.\n\n'
        "Generated by `make proto` from registry/ and proto/. DO NOT EDIT.\n"
        '"""\n\n'
        f"RELEASE: int = {release}\n"
        '"""The latest registry release (0 before the first)."""\n\n'
        f"CONTRACT_REVISIONS: dict[str, str] = {labels}\n"
        '"""Per contract: the revision the working tree is (``+dev``: unreleased changes)."""\n\n'
        f"PUBSUB_DEFINITIONS: dict[str, dict[str, str]] = {definitions}\n"
        '"""Per event contract: the Pub/Sub schema definition of each released revision, oldest\n'
        "first, and of this build's when it is unreleased (``+dev``). A message's registry\n"
        "revision is the one whose definition its Pub/Sub schema revision has (compared by\n"
        'meaning: comments and layout aside)."""\n\n'
        f"REMOVED_FIELDS: dict[str, list[list[list[str]]]] = {removed}\n"
        '"""Per event contract: JSON key paths of the fields removed since a released revision\n'
        "(each step: the field's proto name and JSON name). The JSON decoder drops them, so\n"
        'messages of older revisions that still carry them decode."""\n'
    )
