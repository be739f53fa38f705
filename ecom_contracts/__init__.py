"""The e-commerce event contracts for producers: classes, rules, encoding, publishing.

One release of the contract registry, as a package::

    from ecom_contracts_pb.events.v1.order_event_pb2 import OrderEvent
    import ecom_contracts

    event = OrderEvent(event_id="e-1", order_id="o-1", ...)
    ecom_contracts.validate(event)             # raises InvalidEventError with the violations
    publisher = ecom_contracts.Publisher("projects/P/topics/order-events", encoding="BINARY")
    results = publisher.publish([event])      # one PublishResult per event, refusals included
    future = publisher.send(event)            # or without waiting; publisher.flush() later

``RecordingPublisher`` is the same publisher for unit tests: it records instead
of sending.

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
    KeyHeldError,
    OrderingKeyError,
    PublishError,
    PublishRefusedError,
    PublishTimeoutError,
    SchemaLookupError,
    TopicMismatchError,
    UnknownContractError,
    ValidationEngineMismatchError,
)
from ecom_contracts._examples import examples
from ecom_contracts._publisher import Publisher, PublishResult
from ecom_contracts._recording import RecordedMessage, RecordingPublisher
from ecom_contracts._schema_revisions import (
    PubsubSchemaDefinitions,
    SchemaDefinitions,
    definition_tokens,
    registry_revision_of,
    same_meaning,
)
from ecom_contracts._topics import (
    DEFAULT_TIMEOUT,
    TopicSettings,
    check_ordering_key,
    default_retry,
    read_topic_settings,
    topic_contract,
)
from ecom_contracts._validation import (
    VALIDATION_ENGINES,
    Violation,
    collect_violations,
    use_validation_engine,
    validate,
    validation_engine,
)
from ecom_contracts._versions import RELEASE, VERSION, revision

__version__ = VERSION

__all__ = [
    "BY_NAME",
    "BY_SCHEMA_ID",
    "CONTRACTS",
    "CONTRACT_ATTRIBUTE",
    "DEFAULT_TIMEOUT",
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
    "KeyHeldError",
    "OrderingKeyError",
    "PublishError",
    "PublishRefusedError",
    "PublishResult",
    "PublishTimeoutError",
    "Publisher",
    "PubsubSchemaDefinitions",
    "RecordedMessage",
    "RecordingPublisher",
    "Refusal",
    "SchemaDefinitions",
    "SchemaLookupError",
    "TopicMismatchError",
    "TopicSettings",
    "UnknownContractError",
    "ValidationEngineMismatchError",
    "Violation",
    "check_events",
    "check_file",
    "check_ordering_key",
    "collect_violations",
    "contract",
    "contract_of",
    "decode",
    "default_retry",
    "definition_tokens",
    "encode",
    "examples",
    "read_topic_settings",
    "registry_revision_of",
    "revision",
    "same_meaning",
    "topic_contract",
    "use_json_decoder",
    "use_validation_engine",
    "validate",
    "validation_engine",
]
