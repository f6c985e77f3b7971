"""The default buffer size follows free memory and the table's width, within bounds."""

from __future__ import annotations

from datastorm_core.core import memory


def test_default_buffer_is_bounded_and_shrinks_with_wider_rows(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 8 << 30)
    narrow, wide = memory.default_buffer_rows(3), memory.default_buffer_rows(200)
    assert memory.MIN_BUFFER_ROWS <= wide < narrow <= memory.MAX_BUFFER_ROWS
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 64 << 20)  # a small box
    assert memory.default_buffer_rows(10) == memory.MIN_BUFFER_ROWS
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 1 << 40)  # a huge one
    assert memory.default_buffer_rows(10) == memory.MAX_BUFFER_ROWS


def test_available_memory_is_read_from_the_machine() -> None:
    assert memory.available_memory_bytes() > 0
