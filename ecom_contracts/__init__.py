"""The e-commerce event contracts for producers: classes, rules, encoding, publishing.

One release of the contract registry, as a package::

    from ecom_contracts_pb.events.v1.order_event_pb2 import OrderEvent
    import ecom_contracts

    event = OrderEvent(event_id="e-1", order_id="o-1", ...)
    ecom_contracts.validate(event)             # raises InvalidEventError with the violations
    publisher = ecom_contracts.Publisher("projects/P/topics/order-events")
    results = publisher.publish([event])      # encoded as the topic's schema settings require

The generated classes are the ``ecom_contracts_pb`` package
(``ecom_contracts_pb.events.v1``, ``ecom_contracts_pb.types.v1``: the proto packages
``ecom.events.v1`` and ``ecom.types.v1`` under a name no producer's service has);
``RELEASE`` is the registry release they were built from, and every published
message carries its contract's revision (``ecom_revision``).
A Pub/Sub schema revision is named by its definition (``registry_revision_of``),
never by its id, which differs per project.
"""

from ecom_contracts._catalog import (
    BY_NAME,
    BY_SCHEMA_ID,
    CONTRACTS,
    Contract,
    contract,
    contract_of,
)
from ecom_contracts._check import FORMATS, CheckResult, Refusal, check_events, check_file
from ecom_contracts._encoding import (
    CONTRACT_ATTRIBUTE,
    ENCODING_ATTRIBUTE,
    ENCODINGS,
    JSON_DECODERS,
    REVISION_ATTRIBUTE,
    SCHEMA_ENCODING_ATTRIBUTE,
    SCHEMA_NAME_ATTRIBUTE,
    SCHEMA_REVISION_ATTRIBUTE,
    Encoded,
    decode,
    encode,
    use_json_decoder,
)
from ecom_contracts._errors import (
    ContractError,
    DecodeError,
    EncodingError,
    InvalidEventError,
    SchemaLookupError,
    UnknownContractError,
    ValidationEngineMismatchError,
)
from ecom_contracts._examples import examples
from ecom_contracts._publisher import Publisher, PublishResult, TopicSettings, read_topic_settings
from ecom_contracts._schema_revisions import (
    PubsubSchemaDefinitions,
    SchemaDefinitions,
    definition_tokens,
    registry_revision_of,
    same_meaning,
)
from ecom_contracts._validation import (
    VALIDATION_ENGINES,
    Violation,
    collect_violations,
    use_validation_engine,
    validate,
)
from ecom_contracts._versions import RELEASE, VERSION, revision

__version__ = VERSION

__all__ = [
    "BY_NAME",
    "BY_SCHEMA_ID",
    "CONTRACTS",
    "CONTRACT_ATTRIBUTE",
    "ENCODINGS",
    "ENCODING_ATTRIBUTE",
    "FORMATS",
    "JSON_DECODERS",
    "RELEASE",
    "REVISION_ATTRIBUTE",
    "SCHEMA_ENCODING_ATTRIBUTE",
    "SCHEMA_NAME_ATTRIBUTE",
    "SCHEMA_REVISION_ATTRIBUTE",
    "VALIDATION_ENGINES",
    "VERSION",
    "CheckResult",
    "Contract",
    "ContractError",
    "DecodeError",
    "Encoded",
    "EncodingError",
    "InvalidEventError",
    "PublishResult",
    "Publisher",
    "PubsubSchemaDefinitions",
    "Refusal",
    "SchemaDefinitions",
    "SchemaLookupError",
    "TopicSettings",
    "UnknownContractError",
    "ValidationEngineMismatchError",
    "Violation",
    "check_events",
    "check_file",
    "collect_violations",
    "contract",
    "contract_of",
    "decode",
    "definition_tokens",
    "encode",
    "examples",
    "read_topic_settings",
    "registry_revision_of",
    "revision",
    "same_meaning",
    "use_json_decoder",
    "use_validation_engine",
    "validate",
]
