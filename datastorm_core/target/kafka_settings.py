"""The Kafka target's settings: URL, topic names and the producer's configuration.

Everything here is checked when the target is built, before anything is
sent, so a typo in a topic pattern or a compression name is a UsageError
(exit 2), not a failure halfway through a run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from datastorm_core.errors import UsageError

__all__ = ["COMPRESSIONS", "KAFKA_OPTIONS", "KafkaSettings", "bootstrap_servers"]

COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")

#: Options of a ``type = "kafka"`` target in the Genfile.
KAFKA_OPTIONS = ("topic", "partitions", "replication_factor", "compression", "linger_ms",
                 "batch_bytes", "delivery_timeout_ms", "connect_timeout_ms", "producer")

# Kafka's own rule for topic names.
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")

# Producer settings that carry the delivery guarantee; `producer` may not weaken them.
_GUARANTEED = {"acks": "all", "enable.idempotence": True}


def bootstrap_servers(url: str) -> str:
    """``kafka://host:port[,host:port]`` -> ``host:port[,host:port]``."""
    _, sep, rest = url.partition("://")
    servers = rest.split("/", 1)[0].split("?", 1)[0] if sep else ""
    hosts = [h.strip() for h in servers.split(",") if h.strip()]
    if not hosts or any(":" not in h for h in hosts):
        raise UsageError(f"a Kafka URL is kafka://host:port[,host:port], got {url!r}")
    return ",".join(hosts)


def _int_option(options: Mapping[str, Any], name: str, default: int, low: int) -> int:
    value = options.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise UsageError(f"Kafka target option {name} must be a whole number >= {low}, "
                         f"got {value!r}")
    return value


@dataclass(frozen=True)
class KafkaSettings:
    """The Genfile's options of a Kafka target, checked, with defaults."""

    topic: str = "{table}"
    partitions: int = 6
    replication_factor: int = 1
    compression: str = "lz4"
    linger_ms: int = 20
    batch_bytes: int = 1_000_000
    # How long a message may wait for the broker before the run fails:
    # librdkafka's default (5 minutes) would look like a hang.
    delivery_timeout_ms: int = 30_000
    connect_timeout_ms: int = 10_000
    producer: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> KafkaSettings:
        topic = options.get("topic", cls.topic)
        if not isinstance(topic, str) or "{table}" not in topic:
            raise UsageError(f"Kafka target option topic must be a pattern containing "
                             f"{{table}}, e.g. \"banking.{{table}}\", got {topic!r}")
        compression = options.get("compression", cls.compression)
        if compression not in COMPRESSIONS:
            raise UsageError(f"Kafka target option compression must be one of "
                             f"{', '.join(COMPRESSIONS)}, got {compression!r}")
        producer = options.get("producer", {})
        if not isinstance(producer, Mapping):
            raise UsageError("Kafka target option producer must be a table of librdkafka "
                             f"settings, e.g. producer = {{ \"security.protocol\" = \"SSL\" }}, "
                             f"got {producer!r}")
        weakened = sorted(k for k in producer if k in _GUARANTEED)
        if weakened:
            raise UsageError(f"Kafka producer settings {', '.join(weakened)} are fixed "
                             "(acks=all, idempotence on) so that no event is lost or doubled")
        settings = cls(
            topic=topic,
            partitions=_int_option(options, "partitions", cls.partitions, 1),
            replication_factor=_int_option(options, "replication_factor",
                                           cls.replication_factor, 1),
            compression=compression,
            linger_ms=_int_option(options, "linger_ms", cls.linger_ms, 0),
            batch_bytes=_int_option(options, "batch_bytes", cls.batch_bytes, 1),
            delivery_timeout_ms=_int_option(options, "delivery_timeout_ms",
                                            cls.delivery_timeout_ms, 1),
            connect_timeout_ms=_int_option(options, "connect_timeout_ms",
                                           cls.connect_timeout_ms, 1),
            producer=dict(producer),
        )
        settings.topic_of("x")  # a pattern that can never make a legal name fails now
        return settings

    def topic_of(self, table: str) -> str:
        """The topic of ``table``; UsageError when the pattern makes an illegal name."""
        name = self.topic.replace("{table}", table)
        if not _TOPIC.match(name):
            raise UsageError(f"Kafka topic {name!r} (from the pattern {self.topic!r}) is not a "
                             "legal topic name: letters, digits, '.', '_' and '-', at most 249")
        return name

    def client_config(self, servers: str, on_error: Callable[[Any], None]) -> dict[str, Any]:
        """Settings shared by the producer and the admin client (security, timeouts)."""
        return {
            **self.producer,
            "bootstrap.servers": servers,
            "error_cb": on_error,
            # Connection errors reach us through error_cb and delivery reports;
            # librdkafka's own log lines would only repeat them on stderr.
            "log_level": 0,
            "socket.connection.setup.timeout.ms": self.connect_timeout_ms,
        }

    def producer_config(self, servers: str, on_error: Callable[[Any], None]) -> dict[str, Any]:
        """An idempotent producer that waits for every replica (acks=all).

        ``producer`` settings from the Genfile win over the defaults here,
        except the two that carry the guarantee.
        """
        return {
            "compression.type": self.compression,
            "linger.ms": self.linger_ms,
            "batch.size": self.batch_bytes,
            "delivery.timeout.ms": self.delivery_timeout_ms,
            # The Java client's partitioner: a key lands on the same partition
            # whichever client wrote it, and on every rerun.
            "partitioner": "murmur2_random",
            **self.client_config(servers, on_error),
            **_GUARANTEED,
        }
