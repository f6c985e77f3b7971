"""``${VAR}`` and ``${VAR:-default}`` in [target] and [targets.NAME]."""

from __future__ import annotations

import pytest

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile

TABLE = '\n[t.id]\ntype = "sequence"\n'


def test_variable_is_read_from_the_given_environment() -> None:
    genfile = loads_genfile('[target]\nurl = "${DB_URL}"\n' + TABLE,
                            environ={"DB_URL": "postgresql://u@h:5432/bank"})
    assert genfile.target.url == "postgresql://u@h:5432/bank"
    assert genfile.target.type == "postgres"  # from the scheme


def test_several_variables_and_defaults_in_one_string() -> None:
    text = ('[target]\nurl = "postgresql://${PGUSER:-datastorm}@${PGHOST:-localhost}:'
            '${PGPORT:-5432}/${PGDATABASE}"\nmode = "${MODE:-append}"\n' + TABLE)
    genfile = loads_genfile(text, environ={"PGHOST": "db.internal", "PGDATABASE": "bank"})
    assert genfile.target.url == "postgresql://datastorm@db.internal:5432/bank"
    assert genfile.target.mode == "append"


def test_a_set_variable_wins_over_its_default() -> None:
    genfile = loads_genfile('[target]\nurl = "${U:-sqlite:///default.db}"\n' + TABLE,
                            environ={"U": "csv:///out"})
    assert genfile.target.url == "csv:///out"
    assert genfile.target.type == "csv"


def test_an_empty_default_is_allowed() -> None:
    genfile = loads_genfile('[target]\nurl = "sqlite:///a${SUFFIX:-}.db"\n' + TABLE, environ={})
    assert genfile.target.url == "sqlite:///a.db"


def test_unset_variable_is_one_error_naming_the_variable_and_section() -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile('[target]\nurl = "${NO_SUCH_VARIABLE_X}"\n' + TABLE, environ={})
    (problem,) = caught.value.problems
    assert problem.table == "target"
    assert problem.line == 1
    assert problem.message == "environment variable NO_SUCH_VARIABLE_X is not set"


def test_unset_variable_in_a_named_target() -> None:
    text = '[targets.archive]\nurl = "${ARCHIVE}"\n' + TABLE
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    (problem,) = caught.value.problems
    assert problem.table == "targets.archive"
    assert "ARCHIVE is not set" in problem.message
    genfile = loads_genfile(text, environ={"ARCHIVE": "jsonl:///archive"})
    assert genfile.targets["archive"].url == "jsonl:///archive"


def test_target_overridden_skips_default_target_env_errors_only() -> None:
    text = '[target]\nurl = "${DEFAULT_DB}"\n' + TABLE
    genfile = loads_genfile(text, environ={}, target_overridden=True)
    assert genfile.target.url is None
    named = '[target]\nurl = "${DEFAULT_DB}"\n[targets.x]\nurl = "${NAMED_DB}"\n' + TABLE
    with pytest.raises(GenfileError) as caught:
        loads_genfile(named, environ={}, target_overridden=True)
    (problem,) = caught.value.problems
    assert problem.table == "targets.x"
    assert "NAMED_DB" in problem.message


def test_expansion_happens_only_in_target_sections() -> None:
    text = ('[dataset]\nlocale = "${LOCALE}"\n[t.id]\ntype = "sequence"\n'
            '[t.code]\ntype = "string"\npattern = "${X}"\n')
    genfile = loads_genfile(text, environ={"LOCALE": "pt_BR", "X": "9"})
    assert genfile.dataset.locale == "${LOCALE}"
    assert genfile.table("t").field("code").param("pattern") == "${X}"


def test_dollar_without_braces_stays_literal() -> None:
    genfile = loads_genfile('[target]\nurl = "sqlite:///$HOME.db"\n' + TABLE,
                            environ={"HOME": "/root"})
    assert genfile.target.url == "sqlite:///$HOME.db"


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASTORM_TEST_GENFILE_URL", "jsonl:///from-env")
    genfile = loads_genfile('[target]\nurl = "${DATASTORM_TEST_GENFILE_URL}"\n' + TABLE)
    assert genfile.target.url == "jsonl:///from-env"
