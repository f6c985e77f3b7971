"""The ``datastorm`` command's entry point: Ctrl-C is clean from the first instant.

Loading the command (numpy, psycopg, rich...) takes a moment; a Ctrl-C
then would print Python's traceback. This module imports nothing heavy
itself, takes the interrupt while the rest loads, and hands over to
``cli.main``.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

EXIT_INTERRUPTED = 130


def main() -> int:
    try:
        from datastorm_core.cli import main as command
    except KeyboardInterrupt:
        sys.stderr.write("datastorm: interrupted while starting; nothing was written\n")
        return EXIT_INTERRUPTED
    return command()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
