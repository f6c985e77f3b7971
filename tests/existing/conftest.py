"""The existing-schema tests share the CLI helpers of the end-to-end tests."""

from __future__ import annotations

import sys
from pathlib import Path

# e2e_support lives beside the end-to-end tests; these tests drive the same CLI.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
