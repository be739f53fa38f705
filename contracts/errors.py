"""Errors raised while turning ``proto/`` into generated artifacts (the contract toolchain).

ContractBuildError
├── ContractDefinitionError  a contract breaks a project rule (bad table declaration, ...)
├── ToolchainError           protoc or buf refused the contracts (syntax, lint, breaking change)
├── GateRefusedError         the change is incompatible with released contracts or live tables
├── DriftError               committed generated files differ from what ``proto/`` generates
└── ReleaseFilesError        a release's bundle or the producers' package version cannot be made

Callers (``make proto``, ``make release-contracts``) catch ``ContractBuildError``
and print it; anything else is a bug. Not to be confused with the producers'
run-time refusals (``ecom_contracts.ContractError``: a payload, an event, a
name), a different package with a different tree.
"""

from __future__ import annotations


class ContractBuildError(Exception):
    """Base class of every error about the contracts and their generated artifacts."""


class ContractDefinitionError(ContractBuildError):
    """A contract in ``proto/`` breaks a rule of the project or of BigQuery/Pub/Sub."""


class ToolchainError(ContractBuildError):
    """protoc or buf failed; the message carries the tool's own output."""


class GateRefusedError(ContractBuildError):
    """The compatibility gate refused the change; the message lists every refusal."""


class DriftError(ContractBuildError):
    """Generated files on disk differ from what ``proto/`` generates."""


class ReleaseFilesError(ContractBuildError):
    """A release's bundle or the producers' package version cannot be produced as asked."""
