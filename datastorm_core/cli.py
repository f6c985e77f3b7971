"""The ``datastorm`` command: validate, plan, preview, run, stream, import, export, worker,
serve.

Exit codes: 0 done; 2 a user error (Genfile, arguments), reported before
anything is written; 1 a failure while running, with its cause; 130
interrupted. No traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import traceback
from collections.abc import Sequence
from datetime import date
from types import FrameType

from rich.console import Console
from rich.table import Table

from datastorm_core import __version__
from datastorm_core.core import interrupts
from datastorm_core.core.values import spaced_text
from datastorm_core.errors import DatastormError, Interrupted, UsageError
from datastorm_core.exports import command as export_command
from datastorm_core.genfile import Partition
from datastorm_core.loading import load_genfile
from datastorm_core.progress import ProgressDisplay, render_summary
from datastorm_core.run import (
    RunOptions,
    check,
    check_live,
    parse_target_for,
    plan,
    preview,
    run,
    survey,
    target_url,
)
from datastorm_core.secrets import remember, scrub
from datastorm_core.serve import command as serve_command
from datastorm_core.stream import command as stream_command
from datastorm_core.target.encode.csv_text import csv_header
from datastorm_core.target.encode.csv_text import encode_chunk as csv_chunk
from datastorm_core.target.encode.jsonl import encode_chunk as jsonl_chunk
from datastorm_core.target.urls import redact

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2, our message format) instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="datastorm", description="Realistic, referentially consistent "
                     "synthetic data from one Genfile.toml.")
    parser.add_argument("--version", action="version", version=f"datastorm {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    validate = commands.add_parser("validate", help="check a Genfile; list every error")
    validate.add_argument("genfile")
    validate.add_argument("--target", help="also check the Genfile against the tables that "
                          "exist at this URL (nothing is written)")
    validate.add_argument("--target-for", action="append", default=[], metavar="NAME=URL",
                          help="URL of the named target [targets.NAME] (repeatable)")

    plan_cmd = commands.add_parser("plan", help="tables in write order: rows, references, target")
    plan_cmd.add_argument("genfile")
    _selection_arguments(plan_cmd)
    plan_cmd.add_argument("--target", help="target URL (wins over the Genfile's [target])")
    plan_cmd.add_argument("--target-for", action="append", default=[], metavar="NAME=URL",
                          help="URL of the named target [targets.NAME] (repeatable)")
    plan_cmd.add_argument("--format", choices=("table", "json"), default="table",
                          help="a table for people (default), or JSON for scripts")

    show = commands.add_parser("preview", help="print the first rows of a table")
    show.add_argument("genfile")
    show.add_argument("table")
    show.add_argument("-n", "--rows", type=int, default=10, help="how many rows (default 10)")
    show.add_argument("--format", choices=("table", "json", "csv"), default="table")
    show.add_argument("--seed", type=int, help="override [dataset] seed")

    go = commands.add_parser("run", help="generate the tables and write them to the target")
    go.add_argument("genfile")
    go.add_argument("--target", help="target URL: postgresql://user@host:port/db, "
                    "sqlite:///file.db, csv:///dir, jsonl:///dir, parquet:///dir, console:")
    go.add_argument("--target-for", action="append", default=[], metavar="NAME=URL",
                    help="URL of the named target [targets.NAME] (repeatable), e.g. "
                    "events=kafka://localhost:9092")
    go.add_argument("--seed", type=int, help="override [dataset] seed")
    _selection_arguments(go)
    go.add_argument("--mode", choices=("replace", "append"), help="override [target] mode")
    go.add_argument("--batch-size", type=int, help="rows per write to the target")
    go.add_argument("--buffer-size", type=int, help="rows the buffer may hold")
    go.add_argument("--workers", type=int, default=1, help="source threads (default 1)")
    go.add_argument("--day", help="write one day (YYYY-MM-DD) of the tables partitioned by day")
    go.add_argument("--quiet", action="store_true", help="print only errors")
    go.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                    help="how long to wait for a lock another session holds (default 30)")

    for command in (validate, plan_cmd, show, go):  # `datastorm run --debug` works too
        command.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    stream_command.add_parser(commands)
    export_command.add_parsers(commands)
    serve_command.add_parser(commands)

    imp = commands.add_parser("import", help="write a Genfile for a live PostgreSQL schema")
    imp.add_argument("url", help="the database, postgresql://user@host:port/db")
    imp.add_argument("-o", "--output", help="write the Genfile here (default: stdout)")
    imp.add_argument("--schema", help="the schema to read (default: the connection's)")
    imp.add_argument("--tables", help="comma-separated tables to fill (default: all)")
    imp.add_argument("--exclude", help="comma-separated tables to leave out")
    imp.add_argument("--rows", type=int,
                     help="rows of every table (default: the tables' statistics)")
    imp.add_argument("--locale", default="en_US",
                     help="locale of names, cities, phones (default en_US)")
    imp.add_argument("--seed", type=int, default=42, help="[dataset] seed (default 42)")
    imp.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    return parser


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", help="comma-separated tables to write (default: all)")
    parser.add_argument("--partition", help="write partition K of N of every table, as K/N")


def _options(args: argparse.Namespace) -> RunOptions:
    if getattr(args, "target", None) is not None and not args.target.strip():
        # An empty value (an unset variable in a script) must not mean the default target.
        raise UsageError("--target is empty: give a target URL, e.g. "
                         "postgresql://user@host:5432/db, or leave --target out")
    partition = Partition()
    if getattr(args, "partition", None):
        try:
            partition = Partition.parse(args.partition)
        except ValueError as exc:
            raise UsageError(f"--partition: {exc}") from None
    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else None
    day = None
    if getattr(args, "day", None):
        try:
            day = date.fromisoformat(args.day)
        except ValueError:
            raise UsageError(f"--day must be a date like 2026-01-31, got {args.day!r}") from None
    return RunOptions(
        target=getattr(args, "target", None),
        target_for=parse_target_for(getattr(args, "target_for", None) or ()),
        seed=getattr(args, "seed", None),
        tables=tables,
        partition=partition,
        mode=getattr(args, "mode", None),
        batch_size=getattr(args, "batch_size", None),
        buffer_size=getattr(args, "buffer_size", None),
        workers=getattr(args, "workers", 1),
        day=day,
        lock_timeout=getattr(args, "lock_timeout", None),
    )


def _cmd_validate(args: argparse.Namespace, out: Console) -> int:
    live = bool(args.target or args.target_for)
    options = RunOptions(target=args.target, target_for=parse_target_for(args.target_for))
    genfile = load_genfile(args.genfile, target_overridden=bool(args.target),
                           named_overridden=list(options.target_for))
    check(genfile)
    if live:
        check_live(genfile, options)
    rows = sum(t.records for t in genfile.tables)
    noun = "table" if len(genfile.tables) == 1 else "tables"
    against = f", and it fits {redact(target_url(genfile, options))}" if live else ""
    out.print(f"{args.genfile}: ok, {len(genfile.tables)} {noun}, {rows:,} rows{against}")
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace, out: Console) -> int:
    options = _options(args)
    genfile = load_genfile(args.genfile, target_overridden=bool(options.target),
                           named_overridden=list(options.target_for))
    check(genfile)
    where = redact(target_url(genfile, options))
    states, notes = survey(genfile, options)
    for note in notes:
        Console(stderr=True, highlight=False).print(scrub(f"datastorm: note: {note}"),
                                                    markup=False)
    if args.format == "json":
        entries = [{
            "table": p.table.name, "rows": p.rows, "of": p.total,
            "references": {f.name: f.params["ref"] for f in p.table.references},
            "target": where if p.table.target is None
            else f"{p.table.target}: {redact(target_url(genfile, options, p.table.target))}",
            **{k: v for k, v in states.get(p.table.name, {}).items() if k != "table"},
        } for p in plan(genfile, options)]
        sys.stdout.write(json.dumps(entries, indent=2) + "\n")
        return EXIT_OK
    listing = Table(title=f"write order (partition {options.partition}) -> {where}",
                    title_justify="left")
    columns = ["#", "table", "rows", "of", "references", "target"]
    if states:
        columns += ["owner", "the run will"]
    for column in columns:
        listing.add_column(column, justify="right" if column in ("#", "rows", "of") else "left",
                           overflow="fold")
    for number, p in enumerate(plan(genfile, options), start=1):
        refs = ", ".join(f"{f.name} -> {f.params['ref']}" for f in p.table.references) or "-"
        named = p.table.target
        shown = (where if named is None
                 else f"{named}: {redact(target_url(genfile, options, named))}")
        row = [str(number), p.table.name, f"{p.rows:,}", f"{p.total:,}", refs, shown]
        if states:
            state = states.get(p.table.name, {})
            row += [state.get("owner", "-"), state.get("action", "-")]
        listing.add_row(*row)
    out.print(listing)
    return EXIT_OK


def _cmd_preview(args: argparse.Namespace, out: Console) -> int:
    UsageError.unless_at_least(0, ("-n", args.rows))
    genfile = load_genfile(args.genfile, target_overridden=True, named_overridden=True)
    from datastorm_core.run import schema

    table_schema = schema(genfile, args.table)
    chunk = preview(genfile, args.table, args.rows, args.seed)
    if args.format == "json":
        lines = jsonl_chunk(chunk, table_schema).splitlines() if chunk.rows else []
        sys.stdout.write("[\n" + ",\n".join(f"  {line}" for line in lines) + "\n]\n")
    elif args.format == "csv":
        sys.stdout.write(csv_header(table_schema) + (csv_chunk(chunk, table_schema)
                                                     if chunk.rows else ""))
    else:
        grid = Table(title=f"{args.table} (first {chunk.rows} of "
                     f"{genfile.table(args.table).records:,} rows)", title_justify="left")
        texts = []
        for col in table_schema.columns:
            grid.add_column(f"{col.name}\n[dim]{col.type.value}", overflow="fold")
            texts.append(spaced_text(chunk.columns[col.name], col, "NULL"))
        for row in zip(*texts, strict=True):
            grid.add_row(*row)
        out.print(grid)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace, out: Console) -> int:
    options = _options(args)
    genfile = load_genfile(args.genfile, target_overridden=bool(options.target),
                           named_overridden=list(options.target_for))
    live = None if not args.quiet else False
    with ProgressDisplay(live=live) as display, interrupts.on_final_publish(_SIGNALS.settle):
        report = run(genfile, options, progress=None if args.quiet else display)
        _SIGNALS.settle()  # targets that publish nothing of their own (console, Kafka)
    if not args.quiet:
        render_summary(report.stats, report.target, report.seed, out)
    for warning in report.warnings:
        Console(stderr=True, highlight=False).print(scrub(f"datastorm: warning: {warning}"),
                                                    markup=False)
    if report.stats.interrupted_after_commit or _SIGNALS.ignored:
        # The signal came while the run committed, or after: it is in, and that is what is true.
        Console(stderr=True, highlight=False).print(
            "datastorm: interrupted after the commit: the run was complete and is kept",
            markup=False)
    return EXIT_OK


def _cmd_import(args: argparse.Namespace, out: Console) -> int:
    def names(text: str | None) -> list[str] | None:
        return [t.strip() for t in text.split(",") if t.strip()] if text else None

    # Here, not at the top: the importer reads a live PostgreSQL schema (psycopg, pglast),
    # which every other command would load for nothing.
    from datastorm_core.importer import import_schema

    result = import_schema(args.url, schema=args.schema, tables=names(args.tables),
                           exclude=names(args.exclude), rows=args.rows, locale=args.locale,
                           seed=args.seed)
    err = Console(stderr=True, highlight=False)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as handle:
                handle.write(result.text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
        kept = f", {len(result.kept)} left as they are" if result.kept else ""
        err.print(f"datastorm: wrote {args.output}: {len(result.tables)} tables{kept}",
                  markup=False)
    else:
        sys.stdout.write(result.text)
    for note in result.notes:
        err.print(scrub(f"datastorm: note: {note}"), markup=False)
    return EXIT_OK


COMMANDS = {"validate": _cmd_validate, "plan": _cmd_plan, "preview": _cmd_preview,
            "run": _cmd_run, "stream": stream_command.cmd_stream, "import": _cmd_import,
            "export": export_command.cmd_export, "worker": export_command.cmd_worker,
            "serve": serve_command.cmd_serve}


class _Signals:
    """SIGINT and SIGTERM while the command runs: Ctrl-C until the outcome is settled.

    Before, a signal raises KeyboardInterrupt: the run rolls back, exit 130. Once
    settled (a run's last target has published, or the command has its exit code),
    a signal changes nothing and is only counted: the rows are in, and neither the
    message nor the exit code may say otherwise. One handler that looks at a flag,
    not a handler swapped for SIG_IGN: setting the flag cannot itself be interrupted
    halfway, so no moment is left where the run is in and a signal still counts.
    """

    def __init__(self) -> None:
        self.settled = False
        self.ignored = 0

    def reset(self) -> None:
        self.settled, self.ignored = False, 0

    def settle(self) -> None:
        self.settled = True

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.settled:
            self.ignored += 1
            return
        raise KeyboardInterrupt


_SIGNALS = _Signals()
_SIGNUMS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM") if hasattr(signal, n))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``datastorm`` command; returns the exit code.

    Called with ``argv`` (in another program's process), it leaves the SIGINT and
    SIGTERM handlers as it found them; as the command itself (no ``argv``), its
    handler stays, ignoring signals, until the process exits (see entry.py).
    """
    previous = {signum: signal.getsignal(signum) for signum in _SIGNUMS}
    try:
        return _main(argv)
    finally:
        if argv is not None:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)


def _main(argv: Sequence[str] | None) -> int:
    _SIGNALS.reset()
    # SIGTERM (docker stop, Kubernetes) is handled like Ctrl-C: roll back, exit 130. A
    # signal ignored when the command started (a background job's SIGINT) stays ignored.
    for signum in _SIGNUMS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _SIGNALS.handle)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)
    arguments = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in arguments
    for argument in arguments:  # a password given on the command line is never printed
        remember(argument)
    try:
        try:
            args = _parser().parse_args(argv)
            return COMMANDS[args.command](args, out)
        finally:
            _SIGNALS.settle()  # the outcome is known: no signal changes what is said
    except DatastormError as exc:
        if debug and exc.exit_code != EXIT_USAGE:
            _traceback()
        err.print(f"datastorm: error: {exc}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print(f"datastorm: {Interrupted()}; nothing was written", markup=False)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `datastorm preview ... | head`
        return EXIT_OK
    except Exception as exc:  # a bug: say so plainly, traceback on request
        if debug:
            _traceback()
        err.print(scrub(f"datastorm: internal error: {type(exc).__name__}: {exc} "
                        "(run with --debug for a traceback)"), markup=False)
        return EXIT_FAILED


def _traceback() -> None:
    """``--debug``: the traceback, with every chained driver error, scrubbed of passwords."""
    sys.stderr.write(scrub(traceback.format_exc()))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
