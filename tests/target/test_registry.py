"""URLs to targets, and URLs safe to print."""

from __future__ import annotations

import pytest

from datastorm_core.errors import UsageError
from datastorm_core.target import (
    DEFAULT_TARGET_URL,
    ConsoleTarget,
    CsvTarget,
    JsonlTarget,
    PostgresTarget,
    SqliteTarget,
    TargetPartition,
    open_target,
    redact,
    resolve_url,
)


@pytest.mark.parametrize(("url", "cls"), [
    (None, SqliteTarget),
    ("sqlite:///x.db", SqliteTarget),
    ("postgresql://u@h:5432/db", PostgresTarget),
    ("postgres://u@h/db", PostgresTarget),
    ("csv:///out", CsvTarget),
    ("jsonl:///out", JsonlTarget),
    ("console:", ConsoleTarget),
    ("sqlite", SqliteTarget),
    ("postgres", PostgresTarget),
    ("CSV", CsvTarget),
    ("console", ConsoleTarget),
])
def test_url_to_target(url: str | None, cls: type) -> None:
    assert type(open_target(url)) is cls


def test_defaults() -> None:
    assert resolve_url(None) == DEFAULT_TARGET_URL == "sqlite:///datastorm.db"
    assert resolve_url("jsonl") == "jsonl:///out"


@pytest.mark.parametrize("url", [
    "mysql://u:pw@h/db", "", "datastorm.db", "sqlite://host/x.db", "sqlite:///", "csv:out",
    "csv://", "http://example.com", "postgresql://u@h:port/db",
])
def test_bad_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError) as failure:
        open_target(url)
    assert "pw" not in str(failure.value)


def test_unknown_scheme_names_the_accepted_forms() -> None:
    with pytest.raises(UsageError) as failure:
        open_target("mysql://u:secret@h/db")
    message = str(failure.value)
    assert "mysql://u@h/db" in message and "secret" not in message
    for form in ("postgresql://", "sqlite:///", "csv:///", "jsonl:///", "console:"):
        assert form in message


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"mode": "upsert"}, "mode must be one of"),
    ({"constraints": "later"}, "constraints must be one of"),
    ({"partition": (4, 4)}, "partition must be K/N"),
    ({"options": {"colour": "blue"}}, "unknown option"),
])
def test_bad_settings_are_usage_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        open_target("sqlite:///x.db", **kwargs)


def test_partition_objects_are_accepted() -> None:
    from datastorm_core.core.partition import Partition

    target = open_target("csv:///out", partition=Partition(2, 3))
    assert target.partition == TargetPartition(2, 3)
    assert open_target("csv:///out", partition=(1, 2)).partition == TargetPartition(1, 2)
    assert open_target("csv:///out").partition.is_whole


def test_replace_of_a_partition_is_refused_by_databases_only() -> None:
    with pytest.raises(UsageError, match="append"):
        open_target("sqlite:///x.db", partition=(0, 2))
    open_target("sqlite:///x.db", partition=(0, 2), mode="append")
    open_target("csv:///out", partition=(0, 2))


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://bob:s3cret@db.example.com:5432/shop",
     "postgresql://bob@db.example.com:5432/shop"),
    ("postgresql://bob@h/shop", "postgresql://bob@h/shop"),
    ("postgresql://:s3cret@h/shop", "postgresql://h/shop"),
    ("postgresql://h/shop?password=s3cret&sslmode=require",
     "postgresql://h/shop?password=***&sslmode=require"),
    ("postgres://u:p%40ss@[::1]:5432/db", "postgres://u@[::1]:5432/db"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ("console:", "console:"),
])
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_exported_members() -> None:
    import datastorm_core.target as target
    import datastorm_core.target.encode as encode

    for module in (target, encode):
        assert sorted(module.__all__) == sorted(set(module.__all__))
        for name in module.__all__:
            assert getattr(module, name) is not None, name
