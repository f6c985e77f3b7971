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


def test_compose_kafka_service_matches_the_bank_example() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    # outside compose: the bank example's default; inside: what the code location is given
    assert advertised["EXTERNAL"] == "localhost:9092" and "9092:9092" in kafka["ports"]
    bank = load_genfile(ROOT / "examples" / "bank.toml", environ={})
    assert bank.targets["events"].url == "kafka://localhost:9092"
    code_env = compose["services"]["code"]["environment"]
    assert code_env["KAFKA_BOOTSTRAP"] == advertised["PLAINTEXT"]
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    assert set(env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].replace(":PLAINTEXT", "")
               .split(",")) == listeners


def test_pyproject_declares_the_command_and_both_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["datastorm"] == "datastorm_core.entry:main"
    for package in ("datastorm_core", "datastorm_dagster"):
        assert (ROOT / package / "__init__.py").exists()
    names = " ".join(project["project"]["dependencies"])
    for dependency in ("dagster", "psycopg", "faker", "numpy", "pandas"):
        assert dependency in names


def test_compose_wires_dagster_to_postgres_and_the_code_location() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "code", "webserver", "daemon"} <= set(services)
    dagster_yaml = yaml.safe_load((ROOT / "docker" / "dagster.yaml").read_text(encoding="utf-8"))
    storage = dagster_yaml["storage"]["postgres"]["postgres_db"]
    wanted = {value["env"] for value in storage.values() if isinstance(value, dict)}
    init_sql = (ROOT / "docker" / "init-databases.sql").read_text(encoding="utf-8")
    for name in ("code", "webserver", "daemon"):
        env = services[name]["environment"]
        assert wanted <= set(env), f"{name} lacks {wanted - set(env)}"
        assert env["DAGSTER_PG_HOST"] == "postgres"
        assert f"CREATE DATABASE {env['DAGSTER_PG_DB']}" in init_sql
        target = env["DATASTORM_TARGET"]
        db_env = services["postgres"]["environment"]
        assert target.endswith(f"@postgres:5432/{db_env['POSTGRES_DB']}")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "3000:3000" in services["webserver"]["ports"]
    # The webserver and daemon reach the code server over gRPC, on its port.
    grpc = yaml.safe_load((ROOT / "docker" / "workspace.yaml").read_text())["load_from"][0]
    code_command = services["code"]["command"]
    assert grpc["grpc_server"]["host"] == "code"
    assert str(grpc["grpc_server"]["port"]) == code_command[code_command.index("-p") + 1]
    for name in ("webserver", "daemon"):
        assert "/opt/datastorm/docker/workspace.yaml" in services[name]["command"]
    # The Genfile the code location reads is the host's, so the sensor sees edits.
    genfile = services["code"]["environment"]["DATASTORM_GENFILE"]
    assert any(v.split(":")[1] == genfile for v in services["code"]["volumes"])
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY docker/workspace.yaml" in dockerfile and "DAGSTER_HOME" in dockerfile


def test_the_deployed_instance_keeps_storage_in_postgres_with_psycopg2() -> None:
    dagster_yaml = yaml.safe_load((ROOT / "docker" / "dagster.yaml").read_text(encoding="utf-8"))
    db = dagster_yaml["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert all(isinstance(db[k], dict) and "env" in db[k]
               for k in ("username", "password", "hostname", "db_name", "port"))


def test_workspace_loads_the_definitions_module() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert module == "datastorm_dagster.definitions"


def test_the_instance_of_dagster_dev_needs_no_environment() -> None:
    """The root dagster.yaml is what `dagster dev` copies: no storage that needs variables."""
    text = (ROOT / "dagster.yaml").read_text(encoding="utf-8")
    assert "env:" not in text and "storage" not in yaml.safe_load(text)
    assert "COPY docker/dagster.yaml" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _described_services() -> list[str]:
    """The services docs/scale-out.md's table lists, in its order."""
    text = (ROOT / "docs" / "scale-out.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([\w-]+)` \| ", text.split("### docker compose", 1)[1], re.M)


def test_compose_runs_exactly_the_services_the_docs_describe() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    described = _described_services()
    assert {"redis", "worker-1", "worker-2", "webserver", "daemon", "postgres"} <= set(
        described)
    assert sorted(described) == sorted(compose["services"])


def test_compose_sends_steps_to_celery_workers_on_redis() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["redis"]["healthcheck"]["test"][-1] == "ping"
    workers = [name for name in services if name.startswith("worker-")]
    assert len(workers) == 2
    celery_yaml = yaml.safe_load((ROOT / "docker" / "celery.yaml").read_text(encoding="utf-8"))
    worker_config = celery_yaml["execution"]["config"]
    for name in ["code", *workers]:
        env = services[name]["environment"]
        assert env["DATASTORM_EXECUTOR"] == "celery"
        # The code location and the workers name the same broker and backend.
        assert {worker_config["broker"]["env"], worker_config["backend"]["env"]} <= set(env)
        assert env["DATASTORM_CELERY_BROKER"].startswith("redis://redis:6379/")
    names = set()
    for name in workers:
        command = services[name]["command"]
        assert command[:3] == ["dagster-celery", "worker", "start"]
        assert command[command.index("-y") + 1] == "/opt/datastorm/docker/celery.yaml"
        names.add(command[command.index("-n") + 1])
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        # The worker reads the same Genfile as the code location.
        assert services[name]["volumes"] == services["code"]["volumes"]
        assert services[name]["environment"] == services["code"]["environment"]
    assert len(names) == 2  # Celery needs distinct worker names
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert '".[scale,k8s]"' in dockerfile and "COPY docker/celery.yaml" in dockerfile
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    assert any(d.startswith("dagster-celery") for d in extras["scale"])


def test_the_helm_values_load_the_definitions_with_the_target_from_a_secret() -> None:
    values = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "values.yaml").read_text(
        encoding="utf-8"))
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "datastorm_dagster.definitions"]
    secret = deployment["envSecrets"][0]["name"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"] == [{"name": secret}]
    assert "DATASTORM_TARGET" not in str(deployment["env"])  # only in the Secret
    # A pod per step, with the executor the image has (Dockerfile: the k8s extra).
    assert {"name": "DATASTORM_EXECUTOR", "value": "k8s"} in deployment["env"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["optional-dependencies"]
    assert any(d.startswith("dagster-k8s") for d in extras["k8s"])
    assert "deploy/kubernetes/values.yaml" in (ROOT / "docs" / "scale-out.md").read_text(
        encoding="utf-8")
    assert "docs/scale-out.md" in _readme()


def test_every_process_that_runs_steps_shares_the_io_manager_storage() -> None:
    """A fanned-out table's slices hand their results to the collect step through the
    I/O manager's files, under DAGSTER_HOME/storage: the code location (where runs
    start) and every worker must mount the same volume there."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    home = next(line.split("=", 1)[1].strip() for line in
                (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
                if line.startswith("ENV DAGSTER_HOME="))
    runners = ["code", *(n for n in compose["services"] if n.startswith("worker"))]
    assert len(runners) >= 3
    mounts = {name: {v.split(":")[0] for v in compose["services"][name]["volumes"]
                     if v.split(":")[1] == f"{home}/storage"} for name in runners}
    (volume,) = set.union(*mounts.values())
    assert all(found == {volume} for found in mounts.values()) and volume in compose["volumes"]
