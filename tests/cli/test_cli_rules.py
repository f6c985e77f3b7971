"""The rules (issue 15) from the command line: validate refuses what cannot hold (exit 2,
each problem with its line, table and field); plan and run see the counts children take
from their parent's field; workers, batch sizes and partitions do not change the rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_support import (
    FIXTURES,
    assert_clean_failure,
    assert_runs_write_the_same_csv,
    listed,
    run_cli,
    under,
    write,
)

from datastorm_core.loading import load_genfile, sized
from datastorm_core.source import Source

RULES = FIXTURES / "rules.toml"

# A customer born 20 to 60 years ago (at most 2006-01-01), with 0 to 3 kids.
CUSTOMERS = (FIXTURES / "customers.toml").read_text(encoding="utf-8")

# Mistakes validation sees in the language alone: a cycle of fields across tables, a
# cumulative time in a table not tied to its parent, a total of a table that is no child.
LANGUAGE = CUSTOMERS + (
    '[customer.last]\ntype = "total"\nof = "o.at"\nfunction = "max"\n'
    '[o.c]\ntype = "reference"\nref = "customer.id"\nper_parent = [1, 2]\n'
    '[o.at]\ntype = "date"\nafter = "c.last"\nwithin = "9d"\n'
    '[p.c]\ntype = "reference"\nref = "customer.id"\n'
    '[p.at]\ntype = "date"\nafter = "c.born"\nwithin = "9d"\ncumulative = true\n'
    '[p.t]\ntype = "total"\nof = "customer.id"\nfunction = "sum"\n')

# Mistakes only the generators see: a child count out of range, no room before the end.
VALUES = CUSTOMERS + (
    '[customer.many]\ntype = "int"\nmax = 2000000\n'
    '[o.c]\ntype = "reference"\nref = "customer.id"\nper_parent = "c.many"\n'
    '[p.c]\ntype = "reference"\nref = "customer.id"\n'
    '[p.at]\ntype = "timestamp"\nafter = "c.born"\ngap = ["10000d", "12000d"]\nend = "now"\n')


@pytest.mark.parametrize(("text", "expected"), [
    (LANGUAGE, [("[customer.last]", "fields read each other in a cycle: customer.last -> o.at "
                                    "-> customer.last"),
                ("[p.at]", "cumulative = true steps from child to child of one parent: it "
                           "needs a table tied to its parent by per_parent"),
                ("[p.t]", "of = 'customer.id': a total reads the children of each row: "
                          "'customer' must be a table tied to p by per_parent")]),
    (VALUES, [("[o.c]", 'per_parent = "c.many": a child count beyond the declared range: '
                        "many goes from 0 to 2,000,000, and a count must lie in "
                        "[0, 1,000,000]"),
              ("[p.at]", "after c.born by at least 10000d leaves no room before end = now: "
                         "the latest born is 2006-01-01")]),
], ids=["language", "values"])
def test_validate_refuses_rules_that_cannot_hold(text: str, expected: list[tuple[str, str]],
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "validate", write(tmp_path, text))
    assert_clean_failure(result, 2, f"{len(expected)} errors")
    assert listed(result.err) == [f"{under(text, header)} {message}"
                                  for header, message in expected]


def test_validate_plan_and_run_count_the_children_from_their_parents_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = load_genfile(RULES)
    installments = genfile.table("installment").records
    total = sum(t.records for t in genfile.tables)
    result = run_cli(capsys, "validate", str(RULES))
    assert result.code == 0 and f"{total:,} rows" in result.out, result
    plan = run_cli(capsys, "plan", str(RULES), "--format", "json", "--target", "null:")
    assert plan.code == 0, plan
    rows = {entry["table"]: entry["rows"] for entry in json.loads(plan.out)}
    assert rows["installment"] == installments > 0
    # Another seed draws other months: as many installments as they add up to.
    reseeded = run_cli(capsys, "run", str(RULES), "--target", f"csv:///{tmp_path}", "--quiet",
                       "--tables", "loan,installment", "--seed", "99")
    assert reseeded.code == 0, reseeded
    months = Source(sized(genfile, 99)).chunk("loan", 0, 400).columns["months"].values
    written = (tmp_path / "installment.csv").read_text(encoding="utf-8").splitlines()
    assert len(written) - 1 == months.sum() != installments


def test_workers_batches_and_partitions_write_the_same_rows(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = assert_runs_write_the_same_csv(capsys, RULES, tmp_path)
    assert set(whole) == {f"{t}.csv" for t in ("customer", "account", "transaction", "loan",
                                                "installment", "employee")}
