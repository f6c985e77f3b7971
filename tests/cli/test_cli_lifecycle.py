"""``lifecycle`` from the command line: validate refuses what cannot walk (exit 2, each
problem with its line, table and field); workers, batch sizes and partitions write the
same event logs."""

from __future__ import annotations

from pathlib import Path

import e2e_support
import pytest
from e2e_support import FIXTURES, assert_clean_failure, listed, run_cli, under, write

from datastorm_core.loading import load_genfile

LIFECYCLE = FIXTURES / "lifecycle.toml"

SHOP = ('[order.id]\ntype = "sequence"\n'
        '[event.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "status"\n'
        '[event.status]\ntype = "lifecycle"\nof = "order_id"\n'
        'transitions = { created = { paid = 85, cancelled = 15 }, paid = ["shipped"] }\n')

# Every refusal at once: an unknown initial state, a cycle without max_steps, a weight
# that is not positive, per_parent naming a field that is no lifecycle, `of` not the tie.
BROKEN = SHOP.replace('of = "order_id"\n', 'of = "order_id"\ninitial = "new"\n') + (
    '[ticket.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "state"\n'
    '[ticket.state]\ntype = "lifecycle"\nof = "order_id"\n'
    'transitions = { open = { waiting = 3, solved = 0 }, waiting = ["open"] }\n'
    '[note.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "at"\n'
    '[note.at]\ntype = "date"\n'
    '[step.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = [1, 2]\n'
    '[step.phase]\ntype = "lifecycle"\nof = "order_id"\ntransitions = { a = ["b"] }\n'
    '[loop.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "state"\n'
    '[loop.state]\ntype = "lifecycle"\nof = "order_id"\n'
    'transitions = { open = ["waiting"], waiting = ["open", "closed"] }\n')


def test_validate_refuses_lifecycles_that_cannot_hold(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    result = run_cli(capsys, "validate", write(tmp_path, BROKEN))
    assert_clean_failure(result, 2, "5 errors")
    assert listed(result.err) == [
        f"{under(BROKEN, '[event.status]')} initial \"new\" is not a state of transitions "
        "(states: created, paid, cancelled, shipped)",
        f"{under(BROKEN, '[ticket.state]')} transitions: 'open' -> 'solved': a weight must be "
        "a number > 0, got 0",
        f"{under(BROKEN, '[note.order_id]')} per_parent = 'at': at is of type date, not a "
        "lifecycle of note; per_parent takes [min, max], a field of the parent "
        "(\"order_id.FIELD\") or a lifecycle field of this table whose path gives each "
        "parent its rows",
        f"{under(BROKEN, '[step.phase]')} of = 'order_id': each row of a parent holds one state "
        "of the parent's path, so order_id must say per_parent = \"phase\" (one row per "
        "state)",
        f"{under(BROKEN, '[loop.state]')} transitions go round in a cycle (open -> waiting -> "
        "open), so a path could go on for ever: set max_steps to end it (each parent then "
        "has at most max_steps rows)"]


def test_validate_and_plan_count_the_rows_of_every_path(
        capsys: pytest.CaptureFixture[str]) -> None:
    genfile = load_genfile(LIFECYCLE)
    total = sum(t.records for t in genfile.tables)
    result = run_cli(capsys, "validate", str(LIFECYCLE))
    assert result.code == 0 and f"{total:,} rows" in result.out, result


def test_workers_batches_and_partitions_write_the_same_event_logs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = e2e_support.assert_runs_write_the_same_csv(capsys, LIFECYCLE, tmp_path)
    assert set(whole) == {"order.csv", "order_event.csv", "ticket.csv", "ticket_step.csv"}
