"""Errors raised while turning ``proto/`` into generated artifacts.

ContractError
├── ContractDefinitionError  a contract breaks a project rule (bad table declaration, ...)
├── ToolchainError           protoc or buf refused the contracts (syntax, lint, breaking change)
├── GateRefusedError         the change is incompatible with released contracts or live tables
├── DriftError               committed generated files differ from what ``proto/`` generates
└── ReleaseFilesError        a release's bundle or the producers' package version cannot be made
"""

from __future__ import annotations


class ContractError(Exception):
    """Base class of every error about the contracts and their generated artifacts."""


class ContractDefinitionError(ContractError):
    """A contract in ``proto/`` breaks a rule of the project or of BigQuery/Pub/Sub."""


class ToolchainError(ContractError):
    """protoc or buf failed; the message carries the tool's own output."""


class GateRefusedError(ContractError):
    """The compatibility gate refused the change; the message lists every refusal."""


class DriftError(ContractError):
    """Generated files on disk differ from what ``proto/`` generates."""


class ReleaseFilesError(ContractError):
    """A release's bundle or the producers' package version cannot be produced as asked."""
