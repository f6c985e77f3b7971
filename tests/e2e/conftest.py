"""Fixtures of the end-to-end tests; helpers live in e2e_support.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def in_tmp(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Run in an empty directory, so a default target (./datastorm.db) lands there."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
