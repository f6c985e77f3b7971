"""`datastorm validate` on expressions: exit 2, every problem with its line, field and
column, no traceback; and nothing in an expression is ever run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_support import assert_clean_failure, cli_command, run_cli, write

pytestmark = pytest.mark.timeout(60)

WRONG = """\
[order]
records = 10
id = { type = "sequence" }
quantity = { type = "int", min = 1, max = 5 }

[order.total]
type = "expr"
expr = "qty * 2"

[order.shipped_at]
when = "quantity + 1"
type = "timestamp"

[order.size]
cases = [{ when = "quantity >", weights = [1, 1] }]
values = ["S", "L"]
type = "choice"
"""


def test_expression_errors_exit_2_with_line_field_and_column(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "validate", write(tmp_path, WRONG))
    assert_clean_failure(result, 2, "3 errors")
    listed = [line.strip() for line in result.err.splitlines() if line.strip().startswith("- ")]
    assert listed == [
        "- line 6: [order.total] expr: unknown name 'qty' at column 1",
        "- line 10: [order.shipped_at] when: a condition must be true or false, and this is "
        "int: compare it (==, <, in [...]) at column 1",
        "- line 14: [order.size] cases[1].when: syntax error: invalid syntax (the expression "
        "ends too early) at column 11"]


def test_code_in_an_expression_is_refused_never_run(tmp_path: Path) -> None:
    witness = tmp_path / "ran"
    attempts = [f"__import__('os').system('touch {witness}')",
                f"open('{witness}', 'w')",
                "quantity.__class__.__mro__",
                "[c for c in ().__class__.__base__.__subclasses__()]",
                f"(lambda: open('{witness}', 'w'))()"]
    for attempt in attempts:
        genfile = write(tmp_path, "[t]\nrecords = 3\nquantity = { type = \"int\" }\n"
                                  f"x = {{ type = \"expr\", expr = \"{attempt}\" }}\n")
        done = subprocess.run(cli_command("validate", genfile), capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 2, (attempt, done.stderr)
        assert "Traceback" not in done.stderr and "[t.x] expr:" in done.stderr, done.stderr
    assert not witness.exists()
