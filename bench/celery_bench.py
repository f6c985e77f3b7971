"""One Celery worker against two, on the same fanned-out materialization.

    python bench/celery_bench.py [--rows 2000000] [--slices 4] [--rounds 3]
        [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--redis redis://127.0.0.1:6379/0] [--json out.json]

A one-table Genfile with ``[dagster] fan_out = SLICES`` is materialized by
Dagster's Celery executor (``DATASTORM_EXECUTOR=celery``) on one worker,
then on two (``dagster-celery worker start``, solo pool: a worker runs one
step at a time), the order alternating from round to round, each round into
a fresh database. The workers are started and ready before the clock
starts; what is timed is the run, from launching it to its end (loading the
code location, the fan-out, the slices, the collect step and the checks).

Printed per worker count (medians): the run's wall seconds and rows/s, the
slices' window (first slice's start to last slice's end, from the
materialization's metadata) and its rows/s, the slices each worker ran, the
workers' peak RSS; then the ratio of two workers to one. The tables of
every run are compared (row count and md5 of the rows) with the first: the
same rows whatever the worker count.

On one machine the ratio shows the overhead, not the gain: two workers
and the PostgreSQL server share the same cores, so a second worker adds a
process that competes for them. On two machines each worker generates
and encodes its slices on its own cores and only the server is shared;
the script prints the ratio the slices' CPU time bounds (what the slices
cost a worker, against what the server then does alone).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import ROOT, timed

BIN = Path(sys.executable).parent
GENFILE = """[dagster]
fan_out = {slices}

[dataset]
seed = 11

[customer]
records = {rows}

[customer.id]
type = "sequence"

[customer.name]
type = "name"

[customer.email]
type = "email"

[customer.balance]
type = "decimal"
min = 0
max = 100000
scale = 2

[customer.created]
type = "timestamp"
start = "2020-01-01T00:00:00"
end = "2024-12-31T00:00:00"
"""

LAUNCH = """
import sys
import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository

repository = ReconstructableRepository.for_module(
    "datastorm_dagster.definitions", "defs", working_directory=sys.argv[1])
job = repository.get_reconstructable_job("datastorm_refresh")
with dg.execute_job(job, dg.DagsterInstance.get()) as result:
    sys.exit(0 if result.success else 1)
"""


def database(server: str, name: str) -> str:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = server.rpartition("/")
    return f"{head}/{name}"


def drop(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def digest(url: str) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        count, md5 = conn.execute("SELECT count(*), md5(string_agg(c::text, '|' ORDER BY c.id)) "
                                  "FROM customer c").fetchone()
    return count, md5


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def start_workers(count: int, env: dict[str, str], home: Path, config: Path, queue: str,
                  elsewhere: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for index in range(count):
        log = (home / f"worker-{index}.log").open("wb")
        workers.append(subprocess.Popen(
            [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
             "-y", str(config), "-q", queue, "-n", f"w{index}-{queue}", "--", "--pool=solo"],
            cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))
    deadline = time.monotonic() + 90
    while not all(b" ready." in (home / f"worker-{i}.log").read_bytes()
                  for i in range(count)):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit(f"workers did not start; see {home}/worker-*.log")
        time.sleep(0.3)
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def one_round(count: int, args: argparse.Namespace, root: Path, tag: str) -> dict[str, Any]:
    project, home, elsewhere = (root / f"{n}-{tag}" for n in ("project", "home", "elsewhere"))
    for directory in (project, home, elsewhere):
        directory.mkdir()
    (project / "Genfile.toml").write_text(GENFILE.format(rows=args.rows, slices=args.slices))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    queue = f"datastorm-bench-{uuid.uuid4().hex[:8]}"
    config = home / "celery.yaml"
    config.write_text(json.dumps({"execution": {"config": {
        "broker": args.redis, "backend": args.redis,
        "config_source": {"task_default_queue": queue}}}}))
    name = f"ds_bench_celery_{uuid.uuid4().hex[:8]}"
    url = database(args.url, name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAGSTER_", "DATASTORM_"))}
    env.update({"DAGSTER_HOME": str(home), "DATASTORM_GENFILE": "Genfile.toml",
                "DATASTORM_TARGET": url, "DATASTORM_EXECUTOR": "celery",
                "DATASTORM_CELERY_BROKER": args.redis, "DATASTORM_CELERY_BACKEND": args.redis,
                "DATASTORM_CELERY_QUEUE": queue,
                "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))).dispose()
    workers = start_workers(count, env, home, config, queue, elsewhere)
    try:
        env_run = {**env}
        result = timed([sys.executable, "-c", LAUNCH, str(project)], env_run)
        rss = [peak_rss_mb(pid) for w in workers for pid in children(w.pid)]
    finally:
        stop_workers(workers)
    if result["exit"] != 0:
        raise SystemExit(f"the run failed:\n{result['stderr'][-3000:]}")
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    (record,) = instance.fetch_materializations(dg.AssetKey("customer"), limit=1).records
    slices = record.asset_materialization.metadata["datastorm/slices"].data
    window = max(s["ended"] for s in slices) - min(s["started"] for s in slices)
    per_worker: dict[int, int] = {}
    for s in slices:
        per_worker[s["worker_pid"]] = per_worker.get(s["worker_pid"], 0) + 1
    rows_digest = digest(url)
    drop(args.url, name)
    return {"workers": count, "run_seconds": round(result["seconds"], 2),
            "run_rows_per_second": round(args.rows / result["seconds"]),
            "window_seconds": round(window, 2),
            "window_rows_per_second": round(args.rows / window),
            "slice_seconds": round(sum(s["seconds"] for s in slices), 2),
            "slices_per_worker": sorted(per_worker.values(), reverse=True),
            "worker_peak_rss_mb": rss, "digest": rows_digest}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default=os.environ.get(
        "DATASTORM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ds-celery-bench-") as tmp:
        for number in range(args.rounds):
            for count in ((1, 2) if number % 2 == 0 else (2, 1)):
                found = one_round(count, args, Path(tmp), f"{number}-{count}")
                rounds.append(found)
                print(f"round {number + 1}, {count} worker(s): {found['run_seconds']} s, "
                      f"{found['run_rows_per_second']:,} rows/s (slices' window "
                      f"{found['window_seconds']} s), slices per worker "
                      f"{found['slices_per_worker']}", flush=True)
    digests = {tuple(r["digest"]) for r in rounds}
    summary: dict[int, dict[str, float]] = {}
    for count in (1, 2):
        mine = [r for r in rounds if r["workers"] == count]
        summary[count] = {key: statistics.median(r[key] for r in mine) for key in
                          ("run_seconds", "run_rows_per_second", "window_seconds",
                           "window_rows_per_second", "slice_seconds")}
        summary[count]["worker_peak_rss_mb"] = max(max(r["worker_peak_rss_mb"]) for r in mine)
    print(f"\n{args.rows:,} rows in {args.slices} slices, medians of {args.rounds} rounds")
    print(f"{'workers':>8} {'run s':>8} {'rows/s':>10} {'window s':>9} {'rows/s':>10} "
          f"{'peak RSS MB':>12}")
    for count, found in summary.items():
        print(f"{count:>8} {found['run_seconds']:>8.2f} {found['run_rows_per_second']:>10,.0f} "
              f"{found['window_seconds']:>9.2f} {found['window_rows_per_second']:>10,.0f} "
              f"{found['worker_peak_rss_mb']:>12}")
    ratio = summary[1]["run_seconds"] / summary[2]["run_seconds"]
    window_ratio = summary[1]["window_seconds"] / summary[2]["window_seconds"]
    print(f"two workers / one: {ratio:.2f}x by the run, {window_ratio:.2f}x by the slices' "
          f"window (this machine: {os.cpu_count()} cores shared by the workers and the server)")
    # On two machines a worker's slices run on its own cores: the window would shrink to
    # the slowest worker's share of the slices' time, bounded by the server's COPY speed.
    alone = summary[1]["slice_seconds"]
    print(f"one worker spent {alone:.1f} s in its slices; with a machine each, two "
          f"workers would each spend about {alone / 2:.1f} s: up to 2x, less what the "
          "shared server limits")
    print("same rows in every run:", len(digests) == 1)
    if args.json:
        args.json.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=2))
    return 0 if len(digests) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
