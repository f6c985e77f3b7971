"""The files a new user reads first must stay true: README commands, CI, compose."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.parse import tomllib

ROOT = Path(__file__).resolve().parents[2]


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_install_and_run_then_install_and_test() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", _readme(), flags=re.S)
    run_command, test_command = blocks[0].strip(), blocks[1].strip()
    assert "pip install -e ." in run_command and "datastorm run examples/" in run_command
    assert "pip install -e '.[dev]'" in test_command and test_command.endswith("pytest")
    genfile = run_command.split("datastorm run ", 1)[1].split()[0]
    assert load_genfile(ROOT / genfile).table_names == ("user",)


def test_ci_runs_the_readme_test_command_and_refuses_skips() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    marked = re.search(r"<!-- test-command -->\n```sh\n(.*?)\n```\n<!-- /test-command -->",
                       _readme(), flags=re.S)
    assert marked, "the README marks its test command for .ci/run"
    assert "test-command" in ci and 'bash -c "$test_command"' in ci
    assert "DATASTORM_REQUIRE_POSTGRES=1" in ci
    assert "skipped tests are failures" in ci


def test_original_design_example_is_the_contract_one() -> None:
    genfile = load_genfile(ROOT / "examples" / "users.toml")
    assert genfile.dataset.records == 100_000 and genfile.dataset.buffer_size == 5000
    assert [f.type for f in genfile.table("user").fields] == ["sequence", "name", "email"]


def test_compose_postgres_service_matches_the_readme() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "5432:5432" in postgres["ports"]
    env = postgres["environment"]
    url = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@localhost:5432/" \
          f"{env['POSTGRES_DB']}"
    assert url in _readme()
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_pyproject_declares_the_command_and_both_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["datastorm"] == "datastorm_core.cli:main"
    for package in ("datastorm_core", "datastorm_dagster"):
        assert (ROOT / package / "__init__.py").exists()
    names = " ".join(project["project"]["dependencies"])
    for dependency in ("dagster", "psycopg", "faker", "numpy", "pandas"):
        assert dependency in names
