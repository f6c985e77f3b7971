"""The bare client's floor as a command: send pre-encoded messages, exit when all are acknowledged.

    python bench/kafka_floor.py MESSAGES_FILE BOOTSTRAP TOPIC

``MESSAGES_FILE`` is a ``marshal`` of ``[(key, value, row), ...]`` (bytes,
bytes, bytes) that ``kafka_bench.py`` wrote, untimed, with datastorm's own
message encoder: the very messages ``datastorm run`` sends. This process
imports only confluent-kafka, creates the topic (6 partitions, as datastorm
does), sends every message with the same headers and producer settings and
a delivery callback, waits for every acknowledgement and exits 0 only when
all of them succeeded: the same guarantee ``datastorm run`` gives. The loaded
messages are frozen out of the garbage collector's reach (``gc.freeze``), so
holding them costs the sending nothing. It prints
``{"load_seconds": ..., "send_seconds": ..., "delivered": ...}``; the bench
subtracts the load of the file (the pre-encoding) from the process's wall
time. It leaves by ``os._exit`` once the figures are out: freeing the
pre-loaded messages is no cost of sending them.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import gc  # noqa: E402
import json  # noqa: E402
import marshal  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

# The Kafka target's defaults (datastorm_core/target/kafka_settings.py).
PRODUCER = {"enable.idempotence": True, "acks": "all", "compression.type": "lz4",
            "linger.ms": 20, "batch.size": 1_000_000, "delivery.timeout.ms": 30_000,
            "partitioner": "murmur2_random", "log_level": 0}


def main() -> int:
    path, bootstrap, topic = sys.argv[1:4]
    loading = time.perf_counter()
    with open(path, "rb") as f:
        messages = marshal.load(f)
        # The million loaded tuples are no garbage: without this, every full
        # collection the sending loop triggers would walk them all again.
        gc.freeze()
    load_seconds = time.perf_counter() - loading
    sending = time.perf_counter()
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result()
    producer = Producer({**PRODUCER, "bootstrap.servers": bootstrap})
    delivered, failed = [0], [0]

    def on_delivery(err: Any, msg: Any) -> None:
        if err is None:
            delivered[0] += 1
        else:
            failed[0] += 1

    table, seed = ("table", b"transaction"), ("seed", b"2024")
    produce = producer.produce
    for key, value, row in messages:
        headers = [table, seed, ("row", row)]
        while True:
            try:
                produce(topic, value, key, on_delivery=on_delivery, headers=headers)
                break
            except BufferError:
                producer.poll(0.1)
    while len(producer):
        producer.flush(0.1)
    send_seconds = time.perf_counter() - sending
    print(json.dumps({"load_seconds": load_seconds, "send_seconds": send_seconds,
                      "delivered": delivered[0], "failed": failed[0]}), flush=True)
    return 0 if failed[0] == 0 and delivered[0] == len(messages) else 1


if __name__ == "__main__":
    # Straight out, without freeing the million messages one by one: the
    # teardown of what the floor pre-loaded is no cost of sending them.
    os._exit(main())
