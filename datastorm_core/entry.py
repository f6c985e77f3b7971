"""The ``datastorm`` command's entry point: clean signals from the first instant to the exit.

Loading the command (numpy, psycopg, rich...) takes a moment; a Ctrl-C
then would print Python's traceback. This module imports nothing heavy
itself, takes the interrupt while the rest loads, hands over to
``cli.main`` (which handles SIGINT and SIGTERM itself while the command
runs), and keeps both signals away from the interpreter's shutdown.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

__all__ = ["main"]

EXIT_INTERRUPTED = 130
SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM") if hasattr(signal, n))


def _ignore_signals() -> None:
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # The first signal while starting interrupts; the process is then on its way out with
    # 130, and a second one must not interrupt the message that says so.
    _ignore_signals()
    raise KeyboardInterrupt


def main() -> int:
    # SIGTERM is Ctrl-C too (exit 130), already while the command loads. A signal ignored
    # when the process started (a background job's SIGINT) stays ignored.
    for signum in SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, _interrupt)
    try:
        from datastorm_core.cli import main as command

        code = command()
    except KeyboardInterrupt:  # before cli.main took the signals over
        sys.stderr.write("datastorm: interrupted while starting; nothing was written\n")
        return EXIT_INTERRUPTED
    # cli.main returns with its handler in place, and that handler ignores signals once
    # the command has its outcome: nothing can raise here. SIG_IGN now, because at
    # shutdown Python puts the default action (death by the signal) back in place of
    # every handler of its own, and keeps only an ignored signal ignored: a signal
    # during those last tenths of a second would otherwise end a committed run as
    # killed by it. The targets are closed by then and the engine's remaining threads
    # are daemons: the shutdown waits for nothing that a Ctrl-C would have to cut.
    _ignore_signals()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
