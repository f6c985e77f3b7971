"""``datastorm export`` and ``datastorm worker``: the command lines of exports
(registered by ``cli.py``)."""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from rich.console import Console

from datastorm_core.errors import UsageError
from datastorm_core.exports.files import EXTENSIONS
from datastorm_core.exports.params import bind_params, find_export, parse_param_args
from datastorm_core.exports.runner import export_url, run_export
from datastorm_core.loading import load_genfile

__all__ = ["add_parsers", "cmd_export", "cmd_worker"]

_SIGNUMS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM") if hasattr(signal, n))


def add_parsers(commands: Any) -> None:
    """Add ``export`` and ``worker`` to the ``datastorm`` parser's subcommands."""
    ex = commands.add_parser("export", help="run an [exports.NAME] query into a CSV, JSONL or "
                             "Parquet file")
    ex.add_argument("genfile")
    ex.add_argument("name", help="the export, [exports.NAME] in the Genfile")
    ex.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="a parameter of the export, e.g. state=SP (repeatable)")
    ex.add_argument("--out", help="the file to write (default: ./NAME.csv, .jsonl or .parquet)")
    ex.add_argument("--target", help="PostgreSQL URL to read (default: the Genfile's [target])")
    ex.add_argument("--statement-timeout", type=float, metavar="SECONDS",
                    help="cancel the query after this long (default: the export's "
                    "statement_timeout, else 600)")
    ex.add_argument("--debug", action="store_true", help="show tracebacks of failures")

    wk = commands.add_parser("worker", help="run exports queued in Redis (by `datastorm serve "
                             "--queue`), until stopped")
    wk.add_argument("genfile")
    wk.add_argument("--queue", required=True, help="the Redis queue, redis://host:6379/0 "
                    "(?prefix=NAME to share another key prefix)")
    wk.add_argument("--target", help="PostgreSQL URL to read (default: the Genfile's [target])")
    wk.add_argument("--out-dir", default="exports",
                    help="directory of the files, named by task id (default ./exports)")
    wk.add_argument("--threads", type=int, default=1, help="exports run at once (default 1)")
    wk.add_argument("--heartbeat", type=float, default=None, metavar="SECONDS",
                    help="how long this worker may go silent before others fail its tasks "
                    "(default 15)")
    wk.add_argument("--max-tasks", type=int, metavar="N", help="exit after N exports")
    wk.add_argument("--statement-timeout", type=float, metavar="SECONDS",
                    help="cancel each query after this long (default: the export's, else 600)")
    wk.add_argument("--quiet", action="store_true", help="print only errors")
    wk.add_argument("--debug", action="store_true", help="show tracebacks of failures")


def cmd_export(args: argparse.Namespace, out: Console) -> int:
    UsageError.unless_at_least(0, ("--statement-timeout", args.statement_timeout))
    genfile = load_genfile(args.genfile, target_overridden=bool(args.target),
                           named_overridden=True)
    export = find_export(genfile, args.name)
    values = bind_params(export, parse_param_args(args.param))
    url = export_url(genfile, args.target)
    path = Path(args.out or f"{export.name}.{EXTENSIONS[export.format]}")
    if path.is_dir():
        raise UsageError(f"--out {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"--out {path}: no such directory {path.parent}")
    result = run_export(export, values, url, path, statement_timeout=args.statement_timeout)
    out.print(f"{result.path}: {result.rows:,} rows, {result.bytes:,} bytes in "
              f"{result.seconds:.2f} s", markup=False)
    return 0


def cmd_worker(args: argparse.Namespace, out: Console) -> int:
    from datastorm_core.exports.redis_queue import DEFAULT_HEARTBEAT, RedisWorker

    UsageError.unless_at_least(1, ("--threads", args.threads), ("--max-tasks", args.max_tasks))
    if args.heartbeat is not None and args.heartbeat <= 0:
        raise UsageError(f"--heartbeat must be above 0, got {args.heartbeat}")
    genfile = load_genfile(args.genfile, target_overridden=bool(args.target),
                           named_overridden=True)
    url = export_url(genfile, args.target)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = (lambda _: None) if args.quiet else (lambda m: out.print(f"datastorm worker: {m}",
                                                                   markup=False))
    worker = RedisWorker(genfile, url, args.queue, out_dir, threads=args.threads,
                         heartbeat=args.heartbeat or DEFAULT_HEARTBEAT,
                         statement_timeout=args.statement_timeout, log=say)
    say(f"{worker.id} takes exports from the queue into {out_dir.resolve()}")
    # SIGINT / SIGTERM is how a worker is meant to stop: it sets the stop flag rather
    # than raising KeyboardInterrupt, which could cut a Redis call in half and leave
    # the connection out of step; run() then puts the exports in flight back.
    previous = {s: signal.getsignal(s) for s in _SIGNUMS}
    for signum in _SIGNUMS:
        if previous[signum] != signal.SIG_IGN:
            signal.signal(signum, lambda *_: worker.stop.set())
    try:
        worker.run(max_tasks=args.max_tasks)
    finally:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)
    say(f"{worker.id} stopped after {worker.done} exports")
    return 0
