"""An in-memory S3 bucket: objects, event notifications to Lambda, and a destination.

`Bucket.put_object` / `copy_object` / `delete_object` store and remove objects; every
notification configuration (`Bucket.notify`) whose event types and key filter match an
operation invokes its function asynchronously (``Event``) with the S3 event (reference
5.5, 3.11), under the Event model's retries, destinations and dead-letter queue.  As an
on-failure destination (reference 3.5) the bucket stores each record as a JSON object,
which is a ``PutObject`` like any other and notifies too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Sequence
from typing import Any, Final

import attrs

from invokemodels.aws._notify import Invokers, Notification, Subscriber, invoke
from invokemodels.aws._targets import target_name
from invokemodels.core._clock import iso_timestamp
from invokemodels.core._function import new_request_id
from invokemodels.core._history import History
from invokemodels.core._protocols import Delivery
from invokemodels.core._records import s3_event, s3_record
from invokemodels.core._scheduler import Scheduler
from invokemodels.core._validate import REGION, boolean, instance_of, is_random, seeded, text
from invokemodels.event._invoker import EventInvoker
from invokemodels.exceptions import InvalidParameterValueError

__all__ = ["S3_EVENT_TYPES", "Bucket", "NotificationConfiguration", "S3Object"]

S3_EVENT_TYPES: Final = (
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
)
"""The event types a notification configuration may name, as ``PutBucketNotificationConfiguration``
spells them: the ones the in-memory bucket emits, and their ``*`` wildcards."""

_CREATED: Final = ("Put", "Post", "Copy", "CompleteMultipartUpload")
_OPERATIONS: Final = ("Put", "Post", "CompleteMultipartUpload")
_HEX_UPPER: Final = "0123456789ABCDEF"
_FILTER_LIMIT: Final = 1024
_ID_LIMIT: Final = 255
_OVERLAP: Final = (
    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if "
    "the prefixes are overlapping for the same event type"
)


def _expand(event_type: str) -> frozenset[str]:
    family, _, kind = event_type[3:].partition(":")
    if kind == "*":
        kinds = _CREATED if family == "ObjectCreated" else ("Delete", "DeleteMarkerCreated")
        return frozenset(f"{family}:{k}" for k in kinds)
    return frozenset({event_type[3:]})


def _overlap(a: str, b: str, *, suffix: bool) -> bool:
    if suffix:
        return a.endswith(b) or b.endswith(a)
    return a.startswith(b) or b.startswith(a)


@attrs.frozen(kw_only=True)
class NotificationConfiguration:
    """One ``LambdaFunctionConfigurations`` entry of a bucket's notification configuration.

    Attributes:
        id: the configuration's ``Id`` (the records' ``configurationId``).
        events: the event types (`S3_EVENT_TYPES`).
        prefix: the ``prefix`` filter rule ("" for none): keys must start with it.
        suffix: the ``suffix`` filter rule ("" for none): keys must end with it.
        invoker: the `EventInvoker` the function is invoked through.
    """

    id: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""
    invoker: EventInvoker = attrs.field(eq=False, repr=False)
    _names: frozenset[str] = attrs.field(eq=False, repr=False)

    @property
    def function_arn(self) -> str:
        """The ARN of the function the configuration invokes."""
        return self.invoker.function.arn

    def matches(self, event_name: str, key: str) -> bool:
        """True when ``event_name`` (``ObjectCreated:Put``) on ``key`` fires this configuration."""
        return (
            event_name in self._names and key.startswith(self.prefix) and key.endswith(self.suffix)
        )

    def to_dict(self) -> dict[str, Any]:
        """The entry as ``GetBucketNotificationConfiguration`` returns it."""
        entry: dict[str, Any] = {
            "Id": self.id,
            "LambdaFunctionArn": self.function_arn,
            "Events": list(self.events),
        }
        rules = [
            {"Name": name, "Value": value}
            for name, value in (("prefix", self.prefix), ("suffix", self.suffix))
            if value
        ]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        return entry


@attrs.frozen(kw_only=True)
class S3Object:
    """An object (or a delete marker) as the bucket stored it.

    Attributes:
        key: the object key, as given (records carry it URL-encoded).
        size: the body's size in bytes (0 for a delete marker).
        etag: the entity tag, a hex MD5 of the body (a multipart upload's is the MD5 of the
            parts' MD5s with ``-<parts>``); None for a delete marker.
        version_id: the version id in a versioned bucket, else None.
        sequencer: the hexadecimal value S3 orders one key's events by.
        last_modified: Unix time of the operation.
    """

    key: str
    size: int
    etag: str | None
    version_id: str | None
    sequencer: str
    last_modified: float


@attrs.define(repr=False, eq=False)
class Bucket:
    """An in-memory S3 bucket: objects, event notifications to Lambda, a destination.

    As a source of events (reference 3.11, 5.5): `notify` adds a notification
    configuration; `put_object`, `copy_object` and `delete_object` then invoke every
    matching configuration's function asynchronously (``Event``) with ``{"Records":
    [record]}``, one record per operation and configuration.  The invokes happen at the
    operation's clock time; nothing runs until the scheduler runs.

    As an on-failure destination (reference 3.5): each record is stored as a JSON object
    under AWS's key format ``<prefix>YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>``, where
    the prefix is ``aws/lambda/async/<function-name>/`` for asynchronous invocations and
    ``aws/lambda/<ESM-UUID>/<shardID>/`` for event source mappings (the key format is
    [secondary] in the reference).  Storing it is a ``PutObject``: it notifies too.

    Args:
        name: the bucket name (default ``destination-bucket``).
        region: the bucket's Region (records' ``awsRegion``).
        versioning: a versioned bucket: objects get a ``versionId``, and a delete without a
            version id creates a delete marker (``ObjectRemoved:DeleteMarkerCreated``).
        owner_id: the bucket owner's canonical id (``ownerIdentity.principalId``).
        principal_id: who makes the requests (``userIdentity.principalId``).
        source_ip: where the requests come from (``requestParameters.sourceIPAddress``).
        scheduler: the scheduler (and clock) shared with the invoked functions (default:
            a new virtual one).
        seed: seeds request ids, version ids and sequencers (or pass ``rng``).
    """

    name: str = attrs.field(default="destination-bucket", validator=target_name())
    region: str = attrs.field(
        default="us-east-1", validator=text("region", REGION, "must look like 'us-east-1'")
    )
    versioning: bool = attrs.field(default=False, validator=boolean("versioning"), kw_only=True)
    owner_id: str = attrs.field(default="A3I5XTEXAMAI3E", validator=text("owner_id"), kw_only=True)
    principal_id: str = attrs.field(
        default="AWS:AIDAINPONIXQXHT3IKHL2", validator=text("principal_id"), kw_only=True
    )
    source_ip: str = attrs.field(
        default="205.255.255.255", validator=text("source_ip"), kw_only=True
    )
    scheduler: Scheduler = attrs.field(
        factory=Scheduler,
        validator=instance_of("scheduler", Scheduler, "a Scheduler"),
        kw_only=True,
    )
    seed: int | None = attrs.field(default=None, kw_only=True)
    rng: random.Random = attrs.field(
        default=attrs.Factory(lambda self: seeded(self.seed), takes_self=True),
        validator=is_random,
        kw_only=True,
    )
    objects: dict[str, str | bytes] = attrs.field(factory=dict, init=False)
    """The current objects: key -> body, as put (a destination record is JSON text)."""
    notifications: list[Notification] = attrs.field(factory=list, init=False)
    """Every asynchronous invoke the bucket made, in order."""
    _meta: dict[str, S3Object] = attrs.field(factory=dict, init=False)
    _versions: dict[str, list[str]] = attrs.field(factory=dict, init=False)
    _configurations: list[NotificationConfiguration] = attrs.field(factory=list, init=False)
    _invokers: Invokers = attrs.field(init=False)
    _sequence: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        self._invokers = Invokers(self.scheduler, random.Random(self.rng.getrandbits(64)))
        # Sequencers grow per operation from a random start, all 18 hex digits long.
        self._sequence = self.rng.randrange(16**16, 16**17)

    def __repr__(self) -> str:
        return (
            f"<Bucket {self.name} objects={len(self.objects)} "
            f"configurations={len(self._configurations)}>"
        )

    @property
    def arn(self) -> str:
        """``arn:aws:s3:::<name>``."""
        return f"arn:aws:s3:::{self.name}"

    # -- notification configuration -----------------------------------------------------------

    @property
    def configurations(self) -> list[NotificationConfiguration]:
        """The notification configurations, in the order added."""
        return list(self._configurations)

    def notification_configuration(self) -> dict[str, Any]:
        """``GetBucketNotificationConfiguration``: ``{"LambdaFunctionConfigurations": [...]}``."""
        return {"LambdaFunctionConfigurations": [c.to_dict() for c in self._configurations]}

    def notify(
        self,
        function: Subscriber,
        events: Sequence[str] = ("s3:ObjectCreated:*",),
        *,
        prefix: str = "",
        suffix: str = "",
        id: str | None = None,
        history: History | None = None,
    ) -> EventInvoker:
        """Add a ``LambdaFunctionConfigurations`` entry: invoke ``function`` for ``events``.

        Args:
            function: a `Function` (invoked through an `EventInvoker` the bucket makes on
                its scheduler, one per function) or an `EventInvoker` on the bucket's
                scheduler (its config, destinations and dead-letter queue apply).
            events: event types from `S3_EVENT_TYPES` (default ``s3:ObjectCreated:*``).
            prefix: only keys starting with it ("" for any), matched against the key as
                stored.
            suffix: only keys ending with it ("" for any).
            id: the configuration ``Id`` (default: a random UUID, as S3 assigns).
            history: the `History` of an invoker the bucket makes (default: its own).

        Returns the `EventInvoker`: its ``outcome(request_id)`` is each notification's fate.

        S3 validates the whole configuration: two configurations that share an event type
        (``s3:ObjectCreated:*`` shares every ``ObjectCreated`` type) must not have
        overlapping prefixes *and* overlapping suffixes (one a prefix, resp. suffix, of the
        other; an empty rule overlaps every rule).  Such a configuration raises
        `InvalidParameterValueError` with S3's message and the configuration it overlaps,
        and is not added.
        """
        index = len(self._configurations)
        where = f"NotificationConfiguration.LambdaFunctionConfigurations[{index}]"
        if isinstance(events, str) or not isinstance(events, Sequence) or not events:
            raise InvalidParameterValueError(
                f"{where}.Events", events, "must be a non-empty list of event types"
            )
        names: set[str] = set()
        for event_type in events:
            if event_type not in S3_EVENT_TYPES:
                raise InvalidParameterValueError(
                    f"{where}.Events",
                    event_type,
                    f"the event is not supported for notifications; one of "
                    f"{', '.join(S3_EVENT_TYPES)}",
                )
            names |= _expand(event_type)
        for rule, value in (("prefix", prefix), ("suffix", suffix)):
            if not isinstance(value, str) or len(value) > _FILTER_LIMIT:
                raise InvalidParameterValueError(
                    f"{where}.Filter.Key.FilterRules[{rule}]",
                    value,
                    f"must be a string of at most {_FILTER_LIMIT} characters",
                )
        if id is None:
            id = new_request_id(self.rng)
        if not isinstance(id, str) or not 0 < len(id) <= _ID_LIMIT:
            raise InvalidParameterValueError(
                f"{where}.Id", id, f"must be a string of 1 to {_ID_LIMIT} characters"
            )
        for other in self._configurations:
            if other.id == id:
                raise InvalidParameterValueError(
                    f"{where}.Id", id, "is already the Id of another configuration"
                )
            shared = names & other._names
            if (
                shared
                and _overlap(prefix, other.prefix, suffix=False)
                and _overlap(suffix, other.suffix, suffix=True)
            ):
                raise InvalidParameterValueError(
                    f"{where}.Filter",
                    {"prefix": prefix, "suffix": suffix},
                    f"{_OVERLAP} (it overlaps configuration {other.id!r}, prefix "
                    f"{other.prefix!r}, suffix {other.suffix!r}, on "
                    f"{', '.join(sorted('s3:' + n for n in shared))})",
                )
        invoker = self._invokers.resolve(function, "function", history)
        self._configurations.append(
            NotificationConfiguration(
                id=id,
                events=tuple(events),
                prefix=prefix,
                suffix=suffix,
                invoker=invoker,
                names=frozenset(names),
            )
        )
        return invoker

    def remove_notification(self, id: str) -> None:
        """Remove the configuration ``id`` (``KeyError`` if there is none)."""
        for index, configuration in enumerate(self._configurations):
            if configuration.id == id:
                del self._configurations[index]
                return
        msg = f"{id}: no such notification configuration"
        raise KeyError(msg)

    # -- objects ------------------------------------------------------------------------------

    def put_object(self, key: str, body: str | bytes = b"", *, operation: str = "Put") -> S3Object:
        """``PutObject`` (or another way of creating an object): store ``body`` under ``key``.

        ``operation`` names the event: ``"Put"`` (``ObjectCreated:Put``, default),
        ``"Post"`` (a browser form upload) or ``"CompleteMultipartUpload"`` (the body as
        one part: the eTag is the MD5 of its MD5, with ``-1``).  A text body is stored as
        given and sized in UTF-8.  Returns the stored `S3Object`.
        """
        if operation not in _OPERATIONS:
            raise InvalidParameterValueError(
                "operation", operation, f"must be one of {', '.join(_OPERATIONS)}"
            )
        self._check_key(key)
        if not isinstance(body, (str, bytes)):
            raise InvalidParameterValueError("body", body, "must be str or bytes")
        data = body.encode("utf-8") if isinstance(body, str) else body
        digest = hashlib.md5(data, usedforsecurity=False)
        if operation == "CompleteMultipartUpload":
            etag = hashlib.md5(digest.digest(), usedforsecurity=False).hexdigest() + "-1"
        else:
            etag = digest.hexdigest()
        return self._create(key, body, len(data), etag, operation)

    def copy_object(self, source_key: str, key: str) -> S3Object:
        """``CopyObject`` within the bucket: ``ObjectCreated:Copy`` for ``key``."""
        self._check_key(source_key, "source_key")
        self._check_key(key)
        if source_key not in self.objects:
            raise KeyError(f"{source_key}: NoSuchKey (the source object does not exist)")
        source = self._meta[source_key]
        return self._create(key, self.objects[source_key], source.size, source.etag, "Copy")

    def get_object(self, key: str) -> bytes:
        """``GetObject``: the body as bytes (``KeyError`` NoSuchKey if absent)."""
        try:
            body = self.objects[key]
        except KeyError:
            raise KeyError(f"{key}: NoSuchKey") from None
        return body.encode("utf-8") if isinstance(body, str) else body

    def head_object(self, key: str) -> S3Object:
        """``HeadObject``: the stored `S3Object` (``KeyError`` NoSuchKey if absent)."""
        try:
            return self._meta[key]
        except KeyError:
            raise KeyError(f"{key}: NoSuchKey") from None

    def delete_object(self, key: str, *, version_id: str | None = None) -> S3Object | None:
        """``DeleteObject``: remove ``key``; returns what the event describes, or None.

        Unversioned: the object goes (``ObjectRemoved:Delete``).  Versioned, without
        ``version_id``: a delete marker becomes the current version
        (``ObjectRemoved:DeleteMarkerCreated``, the marker's ``versionId``); with
        ``version_id``: that version is deleted for good (``ObjectRemoved:Delete``); the
        bucket keeps the current objects only, so deleting the current version removes the
        key (S3 would make the previous version current).

        Deleting a key that does not exist succeeds, as in S3; whether S3 sends a
        notification then is [UNCONFIRMED]: this bucket sends none (and returns None).
        """
        self._check_key(key)
        now = self.scheduler.now
        if version_id is not None:
            if not self.versioning or version_id not in self._versions.get(key, []):
                raise InvalidParameterValueError(
                    "VersionId", version_id, f"is not a version of {key!r} in this bucket"
                )
            self._versions[key].remove(version_id)
            current = self._meta.get(key)
            if current is not None and current.version_id == version_id:
                del self._meta[key]
                del self.objects[key]
            gone = S3Object(
                key=key,
                size=0,
                etag=None,
                version_id=version_id,
                sequencer=self._next_sequencer(),
                last_modified=now,
            )
            self._emit("ObjectRemoved:Delete", gone)
            return gone
        if key not in self.objects:
            return None
        del self.objects[key]
        del self._meta[key]
        marker_id = self._new_version(key) if self.versioning else None
        gone = S3Object(
            key=key,
            size=0,
            etag=None,
            version_id=marker_id,
            sequencer=self._next_sequencer(),
            last_modified=now,
        )
        name = "ObjectRemoved:DeleteMarkerCreated" if self.versioning else "ObjectRemoved:Delete"
        self._emit(name, gone)
        return gone

    # -- the destination ----------------------------------------------------------------------

    def deliver(self, record: dict[str, Any], delivery: Delivery) -> None:
        """Store the record as a JSON object under AWS's key format (a ``PutObject``)."""
        stamp = iso_timestamp(delivery.epoch, milliseconds=False)[:-1]  # YYYY-MM-DDTHH:MM:SS
        day = stamp[:10].replace("-", "/")
        key = f"{delivery.s3_prefix}{day}/{stamp.replace(':', '.')}-{new_request_id(delivery.rng)}"
        self.put_object(key, json.dumps(record))

    @property
    def records(self) -> list[Any]:
        """Every stored object, parsed from JSON, in the order first stored."""
        return [json.loads(body) for body in self.objects.values()]

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _check_key(key: Any, parameter: str = "key") -> None:
        if not isinstance(key, str) or not 0 < len(key.encode("utf-8")) <= _FILTER_LIMIT:
            raise InvalidParameterValueError(
                parameter, key, f"must be a non-empty string of at most {_FILTER_LIMIT} bytes"
            )

    def _next_sequencer(self) -> str:
        self._sequence += 1
        return f"{self._sequence:018X}"

    def _new_version(self, key: str) -> str:
        raw = self.rng.getrandbits(192).to_bytes(24, "big")
        version = base64.urlsafe_b64encode(raw).decode("ascii").replace("-", ".")
        self._versions.setdefault(key, []).append(version)
        return version

    def _create(
        self, key: str, body: str | bytes, size: int, etag: str | None, operation: str
    ) -> S3Object:
        stored = S3Object(
            key=key,
            size=size,
            etag=etag,
            version_id=self._new_version(key) if self.versioning else None,
            sequencer=self._next_sequencer(),
            last_modified=self.scheduler.now,
        )
        self.objects.pop(key, None)  # a new object is the newest in `objects`' order
        self.objects[key] = body
        self._meta[key] = stored
        self._emit(f"ObjectCreated:{operation}", stored)
        return stored

    def _emit(self, event_name: str, stored: S3Object) -> None:
        matching = [c for c in self._configurations if c.matches(event_name, stored.key)]
        if not matching:
            return
        request_id = "".join(self.rng.choice(_HEX_UPPER) for _ in range(16))
        host_id = base64.b64encode(self.rng.getrandbits(456).to_bytes(57, "big")).decode()
        created = event_name.startswith("ObjectCreated:")
        epoch = self.scheduler.clock.epoch()
        for configuration in matching:
            record = s3_record(
                event_version="2.1",
                region=self.region,
                epoch=epoch,
                event_name=event_name,
                principal_id=self.principal_id,
                source_ip=self.source_ip,
                request_id=request_id,
                host_id=host_id,
                configuration_id=configuration.id,
                bucket=self.name,
                owner_id=self.owner_id,
                key=stored.key,
                size=stored.size if created else None,
                etag=stored.etag if created else None,
                version_id=stored.version_id,
                sequencer=stored.sequencer,
            )
            self.notifications.append(invoke(configuration.invoker, self.arn, s3_event([record])))
