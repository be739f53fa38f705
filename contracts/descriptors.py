"""The compiled contracts: a descriptor image with its comments and custom options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, message_factory

if TYPE_CHECKING:
    from contracts.model_record import RecordedTable

# FileDescriptorProto / DescriptorProto field numbers used in SourceCodeInfo paths.
_FILE_MESSAGE = 4
_FILE_ENUM = 5
_MESSAGE_FIELD = 2
_MESSAGE_NESTED = 3
_MESSAGE_ENUM = 4
_ENUM_VALUE = 2


@dataclass
class ContractImage:
    """A descriptor image of ``proto/``: descriptors, leading comments and custom options.

    ``own_files`` are the project's files (under ``proto/``); the image also
    holds their imports (google/protobuf, buf/validate), whose comments are
    not kept.
    """

    files: descriptor_pb2.FileDescriptorSet
    own_files: frozenset[str]
    recorded_model: dict[str, RecordedTable] = field(default_factory=dict)
    """Per table, the model a release's code ran, when its image predates the model
    declarations (release 1; see :mod:`contracts.model_record`); empty otherwise."""
    pool: descriptor_pool.DescriptorPool = field(init=False)
    comments: dict[str, str] = field(init=False)
    proto3_optional: frozenset[str] = field(init=False)
    """Full names of the fields declared with proto3's ``optional`` keyword."""

    def __post_init__(self) -> None:
        self.pool = descriptor_pool.DescriptorPool()
        for file_proto in self.files.file:
            self.pool.Add(file_proto)
        self.comments = {}
        optional: set[str] = set()
        for file_proto in self.files.file:
            if file_proto.name in self.own_files:
                self.comments.update(_leading_comments(file_proto))
            optional.update(_proto3_optional_fields(file_proto))
        self.proto3_optional = frozenset(optional)

    @classmethod
    def load(cls, image_path: Path, own_files: list[str]) -> ContractImage:
        """Read an image written by protoc with ``--include_source_info``."""
        files = descriptor_pb2.FileDescriptorSet.FromString(image_path.read_bytes())
        return cls(files=files, own_files=frozenset(own_files))

    def own_file_descriptors(self) -> list[descriptor.FileDescriptor]:
        """Return the project's own files, sorted by path."""
        return [self.pool.FindFileByName(name) for name in sorted(self.own_files)]

    def comment(self, full_name: str) -> str:
        """Return the leading comment of a message, field, enum or enum value, as one line."""
        return self.comments.get(full_name, "")

    def option(self, options: Any, options_type: str, extension_name: str) -> Any | None:
        """Return the value of custom option ``extension_name`` in ``options``, or None.

        ``options`` is a descriptor's ``GetOptions()`` and ``options_type`` its
        full name (``google.protobuf.MessageOptions`` ...). The options are
        re-parsed in this image's own pool so that project extensions resolve.
        """
        extension: Any = self.pool.FindExtensionByName(extension_name)
        options_class = message_factory.GetMessageClass(
            self.pool.FindMessageTypeByName(options_type)
        )
        message_factory.GetMessageClassesForFiles([extension.file.name], self.pool)
        parsed = options_class.FromString(options.SerializeToString())
        if not parsed.HasExtension(extension):
            return None
        return parsed.Extensions[extension]


def _leading_comments(file_proto: descriptor_pb2.FileDescriptorProto) -> dict[str, str]:
    """Map full names of a file's declarations to their leading comments."""
    by_path = {
        tuple(location.path): " ".join(location.leading_comments.split())
        for location in file_proto.source_code_info.location
        if location.leading_comments
    }
    comments: dict[str, str] = {}
    prefix = f"{file_proto.package}." if file_proto.package else ""

    def enum(
        enum_proto: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...], scope: str
    ) -> None:
        name = f"{scope}{enum_proto.name}"
        comments[name] = by_path.get(path, "")
        # Enum values are scoped beside their enum, but named here under it for clarity.
        for index, value in enumerate(enum_proto.value):
            comments[f"{name}.{value.name}"] = by_path.get((*path, _ENUM_VALUE, index), "")

    def message(
        message_proto: descriptor_pb2.DescriptorProto, path: tuple[int, ...], scope: str
    ) -> None:
        name = f"{scope}{message_proto.name}"
        comments[name] = by_path.get(path, "")
        for index, field_proto in enumerate(message_proto.field):
            comments[f"{name}.{field_proto.name}"] = by_path.get((*path, _MESSAGE_FIELD, index), "")
        for index, nested in enumerate(message_proto.nested_type):
            message(nested, (*path, _MESSAGE_NESTED, index), f"{name}.")
        for index, nested_enum in enumerate(message_proto.enum_type):
            enum(nested_enum, (*path, _MESSAGE_ENUM, index), f"{name}.")

    for index, message_proto in enumerate(file_proto.message_type):
        message(message_proto, (_FILE_MESSAGE, index), prefix)
    for index, enum_proto in enumerate(file_proto.enum_type):
        enum(enum_proto, (_FILE_ENUM, index), prefix)
    return comments


def _proto3_optional_fields(file_proto: descriptor_pb2.FileDescriptorProto) -> set[str]:
    """Return the full names of a file's fields declared ``optional`` in proto3."""
    found: set[str] = set()

    def message(message_proto: descriptor_pb2.DescriptorProto, scope: str) -> None:
        name = f"{scope}{message_proto.name}"
        found.update(f"{name}.{f.name}" for f in message_proto.field if f.proto3_optional)
        for nested in message_proto.nested_type:
            message(nested, f"{name}.")

    prefix = f"{file_proto.package}." if file_proto.package else ""
    for message_proto in file_proto.message_type:
        message(message_proto, prefix)
    return found
