"""Default buffer size, chosen from the memory the machine has free."""

from __future__ import annotations

import os

__all__ = ["available_memory_bytes", "default_buffer_rows"]

# Share of free memory the buffer may use by default: small, because the
# buffer only smooths the speed difference between source and target (the
# source is about 10x faster than PostgreSQL, so a bigger buffer just fills
# up and costs memory).
BUFFER_MEMORY_SHARE = 0.005
# A generated row costs about this much per column in numpy arrays
# (strings are UCS-4, so a 20-character name is 80 bytes).
BYTES_PER_CELL = 64
MIN_BUFFER_ROWS = 16_384
# 6 chunks of 8192 rows: enough to absorb jitter. 16 chunks loaded the bank
# bench no faster and left peak RSS 10-40 MB higher and less predictable.
MAX_BUFFER_ROWS = 49_152


def available_memory_bytes() -> int:
    """MemAvailable from /proc/meminfo, or a conservative 1 GiB elsewhere."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 30


def default_buffer_rows(columns: int) -> int:
    """Rows the buffer may hold when the Genfile sets no buffer_size."""
    budget = available_memory_bytes() * BUFFER_MEMORY_SHARE
    rows = int(budget / (BYTES_PER_CELL * max(1, columns)))
    return max(MIN_BUFFER_ROWS, min(MAX_BUFFER_ROWS, rows))
