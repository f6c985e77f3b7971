"""Loading: the factory, the ``definitions`` module, the Component and the translator."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster.components.core.component_tree import ComponentTree
from dagster.components.testing import create_defs_folder_sandbox
from dagster_support import FIXTURES, REPO, copy_genfile, materialize, row_count

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import load_genfile, loads_genfile
from datastorm_core.run import check
from datastorm_dagster import (
    DatastormGenfileComponent,
    DatastormResource,
    DatastormTranslator,
    DatastormTranslatorSettings,
    build_definitions,
)
from datastorm_dagster.translator import column_schema

BANK = FIXTURES / "bank.toml"
BANK_TABLES = load_genfile(BANK).table_names
# table -> the tables it references, as bank.toml writes them.
BANK_PARENTS = {"customer": set(), "account": {"customer"}, "payment": {"account"},
                "product": set()}
# `dagster definitions validate` imports dagster and the Genfile: a few seconds.
VALIDATE_TIMEOUT_SECONDS = 120


def _keys(defs: dg.Definitions) -> set[dg.AssetKey]:
    return set(defs.resolve_asset_graph().get_all_asset_keys())


def _deps(defs: dg.Definitions) -> dict[str, set[str]]:
    graph = defs.resolve_asset_graph()
    return {key.path[-1]: {p.path[-1] for p in graph.get(key).parent_keys}
            for key in graph.get_all_asset_keys()}


# -- the factory ----------------------------------------------------------------


@pytest.mark.postgres
def test_build_definitions_gives_one_asset_per_table_with_its_references_as_deps(
        pg_url: str) -> None:
    defs = build_definitions(BANK, target=pg_url)

    assert _keys(defs) == {dg.AssetKey([t]) for t in BANK_TABLES}
    assert _deps(defs) == BANK_PARENTS
    graph = defs.resolve_asset_graph()
    assert {k.asset_key.path[-1] for k in graph.asset_check_keys} == set(BANK_TABLES)
    assert [s.name for s in defs.schedules or []] == ["datastorm_nightly_refresh"]
    assert ["genfile" in s.name for s in defs.sensors or []] == [True]
    resource = (defs.resources or {})["datastorm"]
    assert isinstance(resource, DatastormResource)
    assert resource.target == pg_url
    assert resource.genfile == str(BANK.resolve())
    # The whole thing also resolves into jobs, as a code server would.
    assert defs.resolve_implicit_global_asset_job_def().name == "__ASSET_JOB"


def test_build_definitions_refuses_an_invalid_genfile(tmp_path: Path) -> None:
    bad = tmp_path / "Genfile.toml"
    bad.write_text('[t.id]\ntype = "nope"\n', encoding="utf-8")

    with pytest.raises(GenfileError, match="nope"):
        build_definitions(bad)


def test_translator_settings_prefix_keys_and_set_groups() -> None:
    translator = DatastormTranslator(DatastormTranslatorSettings(
        key_prefix=("raw", "bank"), group_name="synthetic"))
    defs = build_definitions(BANK, translator=translator)

    assert _keys(defs) == {dg.AssetKey(["raw", "bank", t]) for t in BANK_TABLES}
    assert _deps(defs) == BANK_PARENTS  # deps follow the prefix
    graph = defs.resolve_asset_graph()
    assert {graph.get(k).group_name for k in graph.get_all_asset_keys()} == {"synthetic"}
    assert {k.asset_key for k in graph.asset_check_keys} == _keys(defs)


# -- the `definitions` module (what workspace.yaml loads) ------------------------


def _reload_definitions_module() -> dg.Definitions:
    """Execute ``datastorm_dagster.definitions`` afresh, as a code server imports it.

    A private module object: the one in ``sys.modules`` (which other tests may
    import) is left alone.
    """
    spec = importlib.util.find_spec("datastorm_dagster.definitions")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def test_definitions_module_reads_genfile_from_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    genfile = copy_genfile(tmp_path, "tiny.toml", name="somewhere.toml")
    monkeypatch.setenv("DATASTORM_GENFILE", str(genfile))

    defs = _reload_definitions_module()

    assert _keys(defs) == {dg.AssetKey(["customer"]), dg.AssetKey(["account"])}
    assert (defs.resources or {})["datastorm"].genfile == str(genfile.resolve())


def test_definitions_module_defaults_to_genfile_toml_in_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_genfile(tmp_path, "refresh_cron.toml")  # as ./Genfile.toml
    monkeypatch.chdir(tmp_path)

    defs = _reload_definitions_module()

    assert _keys(defs) == {dg.AssetKey(["item"])}


@pytest.mark.postgres
def test_datastorm_target_wins_over_the_genfiles_target(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str) -> None:
    sqlite_file = tmp_path / "from-genfile.db"
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(f'[target]\nurl = "sqlite:///{sqlite_file}"\n\n'
                       + (FIXTURES / "tiny.toml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    monkeypatch.setenv("DATASTORM_GENFILE", str(genfile))
    monkeypatch.setenv("DATASTORM_TARGET", pg_url)

    defs = _reload_definitions_module()
    result = materialize(defs, dg.DagsterInstance.ephemeral())

    assert result.success
    assert row_count(pg_url, "customer") == 50
    assert row_count(pg_url, "account") == 80
    assert not sqlite_file.exists()

    # Without DATASTORM_TARGET the Genfile's own [target] is used.
    monkeypatch.delenv("DATASTORM_TARGET")
    defs = _reload_definitions_module()
    assert (defs.resources or {})["datastorm"].target is None
    assert materialize(defs, dg.DagsterInstance.ephemeral(),
                       selection=["customer"]).success
    import sqlite3

    with sqlite3.connect(sqlite_file) as conn:
        assert conn.execute("SELECT count(*) FROM customer").fetchone() == (50,)


def test_datastorm_target_spares_the_genfile_its_target_variables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DATASTORM_TARGET set, a [target] url naming an unset variable does not matter."""
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text('[target]\nurl = "${DATASTORM_DAGSTER_TEST_UNSET}"\n\n'
                       + (FIXTURES / "tiny.toml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    monkeypatch.delenv("DATASTORM_DAGSTER_TEST_UNSET", raising=False)
    monkeypatch.setenv("DATASTORM_GENFILE", str(genfile))

    with pytest.raises(GenfileError, match="DATASTORM_DAGSTER_TEST_UNSET"):
        _reload_definitions_module()

    monkeypatch.setenv("DATASTORM_TARGET", "postgresql://nobody@127.0.0.1:1/none")
    defs = _reload_definitions_module()
    assert _keys(defs) == {dg.AssetKey(["customer"]), dg.AssetKey(["account"])}


def _validate(cwd: Path, genfile: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATASTORM_GENFILE": str(genfile)}
    env.pop("DAGSTER_HOME", None)
    dagster = Path(sys.executable).with_name("dagster")
    return subprocess.run([str(dagster), "definitions", "validate", "-m",
                           "datastorm_dagster.definitions"],
                          cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=VALIDATE_TIMEOUT_SECONDS, check=False)


def test_dagster_definitions_validate_accepts_the_module(tmp_path: Path) -> None:
    genfile = copy_genfile(tmp_path, "bank.toml")

    done = _validate(tmp_path, genfile)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr


def test_dagster_definitions_validate_reports_a_broken_genfile(tmp_path: Path) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text('[t.id]\ntype = "nope"\n', encoding="utf-8")

    done = _validate(tmp_path, genfile)

    assert done.returncode != 0
    assert 'unknown type "nope"' in done.stdout + done.stderr


# -- the Component -----------------------------------------------------------------


def test_component_builds_the_same_graph_as_the_factory() -> None:
    context = ComponentTree.for_test().load_context
    component = DatastormGenfileComponent(genfile=str(BANK))

    from_component = component.build_defs(context)
    from_factory = build_definitions(BANK)

    assert _keys(from_component) == _keys(from_factory)
    assert _deps(from_component) == _deps(from_factory)
    assert (set(from_component.resolve_asset_graph().asset_check_keys)
            == set(from_factory.resolve_asset_graph().asset_check_keys))


def test_component_key_prefix_group_name_and_relative_genfile(tmp_path: Path) -> None:
    shutil.copy(BANK, tmp_path / "bank.toml")
    context = ComponentTree.for_test().load_context.for_path(tmp_path)
    component = DatastormGenfileComponent(genfile="bank.toml", key_prefix=("synth",),
                                          group_name="bank", target="postgresql://u@h/db")

    defs = component.build_defs(context)

    assert _keys(defs) == {dg.AssetKey(["synth", t]) for t in BANK_TABLES}
    graph = defs.resolve_asset_graph()
    assert {graph.get(k).group_name for k in graph.get_all_asset_keys()} == {"bank"}
    resource = (defs.resources or {})["datastorm"]
    assert resource.genfile == str(tmp_path / "bank.toml")
    assert resource.target == "postgresql://u@h/db"


def test_component_loads_from_defs_yaml() -> None:
    with create_defs_folder_sandbox() as sandbox:
        folder = sandbox.defs_folder_path / "bank"
        folder.mkdir()
        shutil.copy(BANK, folder / "Genfile.toml")
        (folder / "defs.yaml").write_text(
            "type: datastorm_dagster.DatastormGenfileComponent\n"
            "attributes:\n"
            "  genfile: Genfile.toml\n"
            "  key_prefix: [synthetic, bank]\n"
            "  group_name: synthetic_bank\n", encoding="utf-8")

        with sandbox.load_component_and_build_defs(defs_path=folder) as (component, defs):
            assert isinstance(component, DatastormGenfileComponent)
            assert _keys(defs) == {dg.AssetKey(["synthetic", "bank", t]) for t in BANK_TABLES}
            assert _deps(defs) == BANK_PARENTS
            graph = defs.resolve_asset_graph()
            assert ({graph.get(k).group_name for k in graph.get_all_asset_keys()}
                    == {"synthetic_bank"})
            assert (defs.resources or {})["datastorm"].genfile == str(folder / "Genfile.toml")


# -- the translator ------------------------------------------------------------------


@pytest.mark.parametrize("table_name", BANK_TABLES)
def test_get_asset_spec_is_a_pure_translation_of_the_table(table_name: str) -> None:
    genfile = load_genfile(BANK)
    table = genfile.table(table_name)
    schema = check(genfile).schema(table_name)
    translator = DatastormTranslator()

    spec = translator.get_asset_spec(table, genfile, schema)

    assert spec == translator.get_asset_spec(table, genfile, schema)  # same in, same out
    assert spec.key == dg.AssetKey([table_name])
    assert {d.asset_key for d in spec.deps} == {dg.AssetKey([p])
                                                for p in BANK_PARENTS[table_name]}
    assert spec.group_name == "datastorm"
    assert spec.kinds == {"datastorm", genfile.target.type}
    # No code version: it would be the loaded Genfile's, stale once the sensor rewrites
    # the table from an edited one (see test_dagster_sync); data versions say it.
    assert spec.code_version is None
    assert spec.partitions_def is None
    assert spec.metadata["datastorm/records"] == table.records
    assert spec.metadata["datastorm/table_digest"] == genfile.table_digests[table_name]
    assert spec.metadata["dagster/table_name"] == table_name
    columns = spec.metadata["dagster/column_schema"].columns
    assert [c.name for c in columns] == list(table.field_names)
    for column in columns:  # each says how it is generated, starting with its generator
        assert (column.description or "").startswith(table.field(column.name).type)
    assert f"`{table_name}`" in (spec.description or "")
    assert f"{table.records:,} rows" in (spec.description or "")


def test_get_asset_spec_touches_nothing_outside() -> None:
    """An embedded Genfile (no file) whose target cannot be reached still translates."""
    genfile = loads_genfile('[target]\nurl = "postgresql://nobody@127.0.0.1:1/none"\n'
                            '[t]\nrecords = 3\ndescription = "three rows"\n'
                            '[t.id]\ntype = "sequence"\n')

    spec = DatastormTranslator().get_asset_spec(genfile.table("t"), genfile)

    assert spec.key == dg.AssetKey(["t"])
    assert spec.kinds == {"datastorm", "postgres"}
    assert (spec.description or "").startswith("three rows")
    assert "datastorm/genfile" not in spec.metadata  # no path: no file to name
    assert "dagster/column_schema" not in spec.metadata  # no schema given


def test_column_schema_carries_types_and_constraints() -> None:
    genfile = load_genfile(BANK)
    source = check(genfile)

    account = {c.name: c for c in column_schema(source.schema("account")).columns}
    customer = {c.name: c for c in column_schema(source.schema("customer")).columns}

    assert account["id"].type == "bigint"  # no target named: datastorm's column kind
    assert "primary key" in account["id"].constraints.other
    assert account["id"].constraints.unique and not account["id"].constraints.nullable
    assert account["customer_id"].constraints.other == ["references customer.id"]
    assert account["balance"].type == "numeric"
    assert customer["email"].constraints.unique
    assert not customer["name"].constraints.unique


@pytest.mark.parametrize(("target", "id_type", "balance_type"), [
    (None, "INTEGER", "NUMERIC(7, 2)"),  # the Genfile's own target: SQLite
    ("postgresql://nobody@127.0.0.1:1/none", "bigint", "numeric(7, 2)"),
    ("jsonl:///out", "bigint", "numeric"),
])
def test_column_types_are_the_ones_the_tables_target_shows(
        target: str | None, id_type: str, balance_type: str) -> None:
    """Before: PostgreSQL's types, whatever the target."""
    defs = build_definitions(BANK, target=target)
    node = defs.resolve_asset_graph().get(dg.AssetKey(["account"]))
    columns = {c.name: c.type for c in node.metadata["dagster/column_schema"].columns}

    assert columns["id"] == id_type
    assert columns["balance"] == balance_type


def test_column_descriptions_say_how_each_column_is_generated() -> None:
    genfile = loads_genfile(
        '[t]\nrecords = 3\n'
        '[t.id]\ntype = "sequence"\n'
        '[t.age]\ntype = "int"\nmin = 18\nmax = 90\ndistribution = "normal"\n'
        'mean = 40\nstddev = 9\nnull_rate = 0.05\n'
        '[t.kind]\ntype = "choice"\nvalues = ["a", "b", "c", "d", "e", "f", "g"]\n'
        '[u]\nrecords = 2\n[u.id]\ntype = "sequence"\n'
        '[u.t_id]\ntype = "reference"\nref = "t.id"\n')
    source = check(genfile)
    t = {c.name: c.description for c in column_schema(source.schema("t"),
                                                      genfile.table("t")).columns}
    u = {c.name: c.description for c in column_schema(source.schema("u"),
                                                      genfile.table("u")).columns}

    assert t["age"] == "int: 18..90, normal (mean 40, stddev 9); 5% NULL"
    assert t["kind"] == "choice: one of a, b, c, d, e (+2 more)"
    assert t["id"] is not None and t["id"].startswith("sequence")
    assert u["t_id"] == "reference: references t.id"


def test_a_generator_of_the_users_own_is_described_by_its_name_and_parameters() -> None:
    genfile = loads_genfile('[t]\nrecords = 3\n[t.id]\ntype = "sequence"\n[t.code]\n'
                            'type = "datastorm_test_plugins:Codes"\nprefix = "Q"\n'
                            'null_rate = 0.5\n', environ={})
    source = check(genfile)
    described = {c.name: c.description for c in column_schema(source.schema("t"),
                                                              genfile.table("t")).columns}
    assert described["code"] == "datastorm_test_plugins:Codes: prefix Q; 50% NULL"
    spec = DatastormTranslator().get_description(genfile.table("t"))
    assert "code (datastorm_test_plugins:Codes)" in (spec or "")


def test_translation_is_comprehensive() -> None:
    """Every part of every asset comes from the translator's get_* methods."""

    class Custom(DatastormTranslator):
        def get_asset_key(self, table):  # type: ignore[no-untyped-def]
            return dg.AssetKey(["custom", table.name.upper()])

        def get_group_name(self, table):  # type: ignore[no-untyped-def]
            return f"group_{table.name}"

        def get_description(self, table):  # type: ignore[no-untyped-def]
            return f"described {table.name}"

        def get_metadata(self, table, genfile, schema=None):  # type: ignore[no-untyped-def]
            return {**super().get_metadata(table, genfile, schema), "custom/table": table.name}

        def get_kinds(self, table, genfile):  # type: ignore[no-untyped-def]
            return {"custom"}

    defs = build_definitions(BANK, translator=Custom())
    graph = defs.resolve_asset_graph()
    by_table = {key.path[-1].lower(): graph.get(key) for key in graph.get_all_asset_keys()}

    assert set(by_table) == set(BANK_TABLES)  # exactly one asset per table
    for table, node in by_table.items():
        assert node.key == dg.AssetKey(["custom", table.upper()])
        assert node.group_name == f"group_{table}"
        assert node.description == f"described {table}"
        assert node.metadata["custom/table"] == table
        assert node.kinds == {"custom"}
        assert {p for p in node.parent_keys} == {dg.AssetKey(["custom", p.upper()])
                                                 for p in BANK_PARENTS[table]}
    # The checks, the schedule and the sensor follow the translator's keys too.
    assert ({k.asset_key for k in graph.asset_check_keys}
            == set(graph.get_all_asset_keys()))
    schedule = defs.resolve_schedule_def("datastorm_nightly_refresh")
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 1, 1, 2))
    requests = schedule.evaluate_tick(context).run_requests or []
    assert [set(r.asset_selection or ()) for r in requests] == [set(graph.get_all_asset_keys())]


def test_runs_execute_their_steps_in_the_runs_own_process() -> None:
    """A process per step made "materialize all" of six tables take over 100 s."""
    defs = build_definitions(BANK)

    jobs = [defs.resolve_implicit_global_asset_job_def(),
            defs.resolve_job_def("datastorm_refresh")]

    assert [job.executor_def.name for job in jobs] == ["in_process", "in_process"]
    # and the checks are the assets' own: no step of their own to start
    graph = defs.resolve_asset_graph()
    assert graph.asset_check_keys
    assert not defs.asset_checks


def test_a_relative_genfile_resolves_against_the_code_location_not_the_working_directory(
        tmp_path: Path) -> None:
    """A worker started in another directory (a Celery worker, a pod) still finds the
    Genfile the code location names: the run's step loads the code location again
    with its working directory (``-d``), not the process's."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    copy_genfile(project, "tiny.toml")  # project/Genfile.toml; none in elsewhere/
    database = tmp_path / "out.db"
    env = {**os.environ, "DATASTORM_GENFILE": "Genfile.toml",
           "DATASTORM_TARGET": f"sqlite:///{database}",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("DAGSTER_HOME", None)
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run([str(dagster), "asset", "materialize", "-m",
                           "datastorm_dagster.definitions", "-d", str(project),
                           "--select", "customer"],
                          cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=VALIDATE_TIMEOUT_SECONDS, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    import sqlite3

    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM customer").fetchone() == (50,)
