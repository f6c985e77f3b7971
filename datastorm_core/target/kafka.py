"""``kafka://host:port[,host:port]``: one topic per table, one JSON message per row.

Each message carries the row as a JSON object, the row's ``message_key``
column as its key (so one account's events stay in order on one
partition) and three headers: ``table``, ``seed`` and ``row`` (the row's
index), which make a message traceable and let a consumer drop the
repeats of a rerun. The same partition of the same Genfile and seed
always produces the same messages.

The producer is idempotent with ``acks=all``, and every delivery report
is checked: the first failed delivery fails the run with its cause.
``end_table`` waits until every message of the table is acknowledged,
so a table's events are in the broker before the next table starts.

Kafka is a log, not a transaction: a run that fails halfway leaves the
messages already acknowledged in their topics (the run's error says how
many). Write mode does not apply; a run always appends to its topics.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import Interrupted, TargetError
from datastorm_core.target.base import BaseTarget, TargetSettings
from datastorm_core.target.encode.messages import message_keys, message_rows, message_values
from datastorm_core.target.kafka_settings import KAFKA_OPTIONS, KafkaSettings, bootstrap_servers

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["KafkaTarget", "TopicReport"]

# How long one wait for the producer's queue or acknowledgements lasts before
# we look again at errors and abort requests.
_POLL_SECONDS = 0.1


@dataclass
class TopicReport:
    """What one table's messages became: a topic and acknowledged offsets."""

    topic: str
    delivered: int = 0
    offsets: dict[int, list[int]] = field(default_factory=dict)  # partition -> [first, last]

    def as_details(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "messages": self.delivered,
            "offsets": {str(p): {"first": lo, "last": hi}
                        for p, (lo, hi) in sorted(self.offsets.items())},
        }


class KafkaTarget(BaseTarget):
    """Sends each table to its topic through one idempotent producer."""

    kind = "kafka"
    accepted_options = KAFKA_OPTIONS
    default_batch_size = 8192
    # A topic only grows: a partition run adds its own messages, nothing is replaced.
    partition_replace_ok = True

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.servers = bootstrap_servers(url)
        self.settings = KafkaSettings.from_options(self.options)
        self.reports: dict[str, TopicReport] = {}
        self._producer: Producer | None = None
        self._admin: AdminClient | None = None
        self._error: str | None = None  # the first failed delivery, with its cause
        self._client_error: str | None = None  # the latest error librdkafka reported
        self._aborted = threading.Event()

    def describe(self) -> str:
        return f"kafka://{self.servers}"

    def table_details(self, name: str) -> dict[str, Any]:
        report = self.reports.get(name)
        return report.as_details() if report else {}

    # -- connection and topics ------------------------------------------------

    def probe(self, schemas: Sequence[TableSchema]) -> None:
        """Reach the broker and create the missing topics (an empty topic is harmless)."""
        self._create_missing_topics(self._connect(),
                                    [self.settings.topic_of(s.name) for s in schemas])

    def _connect(self) -> AdminClient:
        admin = AdminClient(self.settings.client_config(self.servers, self._on_client_error))
        timeout = self.settings.connect_timeout_ms / 1000
        try:
            admin.list_topics(timeout=timeout)
        except KafkaException as exc:
            raise TargetError(f"cannot reach Kafka at {self.servers} within {timeout:g} s: "
                              f"{_cause(exc)}") from exc
        return admin

    def open(self) -> None:
        self._admin = self._connect()
        self._producer = Producer(self.settings.producer_config(self.servers,
                                                                self._on_client_error))

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        super().prepare(schemas)
        self.reports = {s.name: TopicReport(self.settings.topic_of(s.name)) for s in schemas}
        if self._admin is None:
            raise TargetError("the Kafka target was not opened")
        self._create_missing_topics(self._admin, [r.topic for r in self.reports.values()])

    def _create_missing_topics(self, admin: AdminClient, topics: list[str]) -> None:
        timeout = self.settings.connect_timeout_ms / 1000
        try:
            existing = admin.list_topics(timeout=timeout).topics
        except KafkaException as exc:
            raise TargetError(f"cannot list the topics of Kafka at {self.servers}: "
                              f"{_cause(exc)}") from exc
        for topic in topics:
            found = existing.get(topic)
            if found is not None and len(found.partitions) != self.settings.partitions:
                # Keys map to partitions by their count: say which count applies.
                warning = (f"Kafka topic {topic!r} exists with {len(found.partitions)} "
                           f"partitions; partitions = {self.settings.partitions} applies only "
                           "to topics datastorm creates")
                if warning not in self.warnings:  # probe and prepare both look
                    self.warnings.append(warning)
        wanted = [t for t in dict.fromkeys(topics) if t not in existing]
        if not wanted:
            return
        futures = admin.create_topics(
            [NewTopic(t, num_partitions=self.settings.partitions,
                      replication_factor=self.settings.replication_factor) for t in wanted],
            request_timeout=timeout)
        for topic, future in futures.items():
            try:
                future.result(timeout)
            except TimeoutError as exc:
                raise TargetError(f"Kafka at {self.servers} did not create topic {topic!r} "
                                  f"within {timeout:g} s") from exc
            except KafkaException as exc:
                # Another run (a partition side by side) created it first: fine.
                if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                raise TargetError(f"cannot create Kafka topic {topic!r}: {_cause(exc)}") from exc

    # -- writing ----------------------------------------------------------------

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        producer = self._require_producer()
        report = self.reports[schema.name]
        topic = report.topic
        produce = producer.produce
        on_delivery = self._delivery_callback(report)
        table = ("table", schema.name.encode())
        seed = ("seed", str(self.seed).encode())
        for chunk in chunks:
            # Everything per message is made a chunk at a time (message_rows): the
            # loop below is the one Python call per message the client requires.
            for key, value, row in zip(message_keys(chunk, schema),
                                       message_values(chunk, schema),
                                       message_rows(chunk), strict=True):
                headers = [table, seed, ("row", row)]
                try:
                    produce(topic, value, key, on_delivery=on_delivery, headers=headers)
                except BufferError:  # the local queue is full: let deliveries drain it
                    self._produce_when_room(topic, value, key, on_delivery, headers)
            producer.poll(0)
            self._raise_if_failed()

    def _produce_when_room(self, topic: str, value: bytes, key: bytes | None,
                           on_delivery: Any, headers: list[tuple[str, bytes]]) -> None:
        producer = self._require_producer()
        while True:
            producer.poll(_POLL_SECONDS)
            self._raise_if_failed()
            try:
                producer.produce(topic, value, key, on_delivery=on_delivery, headers=headers)
                return
            except BufferError:
                continue

    def end_table(self, schema: TableSchema) -> None:
        """Wait until every message of the table is acknowledged (or one failed)."""
        self._drain()

    def _drain(self) -> None:
        producer = self._require_producer()
        while len(producer) > 0:
            producer.flush(_POLL_SECONDS)
            self._raise_if_failed()
        self._raise_if_failed()

    def _delivery_callback(self, report: TopicReport) -> Any:
        offsets = report.offsets

        def delivered(err: KafkaError | None, msg: Any) -> None:
            if err is not None:
                if self._error is None:
                    self._error = self._failure(report, err)
                return
            report.delivered += 1
            span = offsets.get(msg.partition())
            if span is None:
                offsets[msg.partition()] = [msg.offset(), msg.offset()]
            else:
                offset = msg.offset()
                if offset < span[0]:
                    span[0] = offset
                elif offset > span[1]:
                    span[1] = offset

        return delivered

    def _failure(self, report: TopicReport, err: KafkaError) -> str:
        cause = err.str()
        if self._client_error and self._client_error not in cause:
            cause += f" ({self._client_error})"
        return (f"Kafka at {self.servers} did not acknowledge a message to topic "
                f"{report.topic!r}: {cause}")

    def _on_client_error(self, err: KafkaError) -> None:
        # Connection trouble is retried by librdkafka until delivery.timeout.ms;
        # remember it so that the failure, if it comes, names its cause.
        self._client_error = err.str()
        if err.fatal() and self._error is None:
            self._error = f"the Kafka producer failed: {err.str()}"

    def _raise_if_failed(self) -> None:
        if self._aborted.is_set():
            raise Interrupted("the Kafka run was stopped")
        if self._error is not None:
            sent = sum(r.delivered for r in self.reports.values())
            raise TargetError(f"{self._error}; {sent:,} messages had been acknowledged "
                              "and stay in their topics")

    def _require_producer(self) -> Producer:
        if self._producer is None:
            raise TargetError("the Kafka target was not opened")
        return self._producer

    # -- finishing --------------------------------------------------------------

    def commit(self) -> None:
        self._drain()

    def rollback(self) -> None:
        """Drop what is still queued; acknowledged messages cannot be taken back."""
        if self._producer is not None:
            self._producer.purge()
            self._producer.flush(0)

    def close(self) -> None:
        self._producer = None
        self._admin = None

    def abort(self) -> None:
        self._aborted.set()
        if self._producer is not None:
            self._producer.purge()


def _cause(exc: KafkaException) -> str:
    if exc.args and isinstance(exc.args[0], KafkaError):
        return str(exc.args[0].str())
    return str(exc)

