"""console: prints the first rows of each table and how many were written."""

from __future__ import annotations

import io

from target_support import USER, Table, run, user_rows

from datastorm_core.target import ConsoleTarget, open_target


def test_prints_first_rows_and_a_count() -> None:
    out = io.StringIO()
    target = ConsoleTarget(options={"rows": 3}, stream=out)
    rows = user_rows(25)
    run(target, [Table(USER, rows)])

    text = out.getvalue()
    assert "user: 25 rows, first 3 shown" in text
    assert rows[0][1] in text and rows[2][1] in text
    assert rows[3][1] not in text


def test_markup_in_values_is_printed_as_is() -> None:
    out = io.StringIO()
    rows = [(1, "[bold]x[/bold]@e", None, None, None, None, None, user_rows(1)[0][7], None)]
    run(ConsoleTarget(stream=out), [Table(USER, rows)])

    assert "[bold]x[/bold]@e" in out.getvalue()
    assert "NULL" in out.getvalue()


def test_console_url() -> None:
    assert isinstance(open_target("console:", options={"rows": 5}), ConsoleTarget)
