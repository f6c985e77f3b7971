"""A target section's options are checked against the target it names, with the
section's line, by validate as by run; options a run cannot use are said so."""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import run_cli, write

TABLE = '\n[t]\nrecords = 3\n[t.id]\ntype = "sequence"\n'


@pytest.mark.parametrize(("section", "said"), [
    ('[target]\nurl = "postgresql://nobody@127.0.0.1:1/db"\ncopy_fromat = "binary"\n',
     "unknown option(s) for the postgres target: copy_fromat"),
    ('[target]\nurl = "postgresql://nobody@127.0.0.1:1/db"\ncopy_connections = 99\n',
     "copy_connections"),
    ('[target]\ntype = "sqlite"\ntimeout = "soon"\n', "timeout"),
    ('[targets.events]\ntype = "kafka"\nlinger = 5\n', "unknown option(s) for the kafka target"),
])
def test_validate_refuses_an_option_its_target_refuses_with_the_sections_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, said: str) -> None:
    """Before: validate said the Genfile was fine, and only a run refused it, lineless."""
    path = write(tmp_path, "# options\n" + section + TABLE)

    result = run_cli(capsys, "validate", path)

    assert result.code == 2, result.both
    assert said in result.err
    assert "line 2" in result.err  # the section's header
    assert "Traceback" not in result.both


def test_options_a_run_to_another_kind_of_target_cannot_use_are_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: dropped without a word when --target named another scheme."""
    path = write(tmp_path, '[target]\nurl = "postgresql://nobody@127.0.0.1:1/db"\n'
                           'copy_connections = 1\n' + TABLE)

    result = run_cli(capsys, "run", path, "--target", f"sqlite:///{tmp_path}/x.db")

    assert result.code == 0, result.both
    assert "copy_connections" in result.err and "not used" in result.err
    assert (tmp_path / "x.db").exists()
