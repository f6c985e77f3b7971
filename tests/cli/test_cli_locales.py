"""A Genfile with no locale (en_US) and phone, city, address, postcode fields: it runs."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import phonenumbers
import pytest
from e2e_support import run_cli, write

pytestmark = pytest.mark.timeout(60)

NO_LOCALE = """\
[dataset]
seed = 8

[customer]
records = 300

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.phone]
type = "phone"

[customer.state]
type = "state"

[customer.city]
type = "city"
state = "state"

[customer.zip]
type = "postcode"
state = "state"

[customer.address]
type = "address"
"""


def test_a_genfile_without_a_locale_validates_and_runs_into_sqlite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, NO_LOCALE)
    assert run_cli(capsys, "validate", genfile).code == 0
    database = tmp_path / "out.db"
    result = run_cli(capsys, "run", genfile, "--quiet", "--target", f"sqlite:///{database}")
    assert result.code == 0, result
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT phone, state, city, zip, address FROM customer").fetchall()
    assert len(rows) == 300
    for phone, state, city, zip_code, address in rows:
        assert phonenumbers.is_valid_number_for_region(phonenumbers.parse(phone), "US")
        assert re.fullmatch(r"[A-Z]{2}", state) and city and re.fullmatch(r"\d{5}", zip_code)
        assert re.fullmatch(r"\d+ .+, .+, [A-Z]{2} \d{5}", address), address
