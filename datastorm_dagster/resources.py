"""The datastorm resource: which Genfile, and which target, from the environment.

The target URL never comes from code: it is ``DATASTORM_TARGET`` when set
(``definitions.py`` wires it with ``EnvVar``), else the Genfile's own
``[target]`` (whose URL may itself be ``${DATABASE_URL}``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dagster as dg
from pydantic import Field

from datastorm_core.core.stats import ProgressCallback
from datastorm_core.genfile.model import Genfile
from datastorm_core.run import RunOptions, RunReport, load_genfile, routed, run, target_url
from datastorm_core.tables import Inspector, Partition, inspector

__all__ = ["DatastormResource"]


class DatastormResource(dg.ConfigurableResource):
    """Runs datastorm for one table (or partition) against the configured target."""

    genfile: str
    target: str | None = None  # a URL; None: the Genfile's [target]
    # URLs of named targets ([targets.NAME]) that replace the Genfile's.
    targets: dict[str, str] = Field(default_factory=dict)
    # Where export assets write their files; None: DATASTORM_EXPORT_DIR, else exports/
    # beside the Genfile (datastorm_dagster.exports).
    export_dir: str | None = None

    def load(self) -> Genfile:
        """The Genfile as it is now on disk, validated and sized."""
        return load_genfile(self.genfile, target_overridden=bool(self.target),
                            named_overridden=list(self.targets))

    def routed(self, genfile: Genfile) -> Genfile:
        """``genfile`` with each target's type the one its URL has here."""
        return routed(genfile, self.options())

    def options(self, **changes: Any) -> RunOptions:
        return RunOptions(target=self.target, target_for=dict(self.targets), **changes)

    def target_url(self, genfile: Genfile, table: str | None = None) -> str:
        """Where ``table`` is written (None: the default target)."""
        name = genfile.table(table).target if table is not None else None
        return target_url(genfile, self.options(), name)

    def write_table(self, genfile: Genfile, table: str, partition: Partition,
                    progress: ProgressCallback | None = None) -> RunReport:
        """Generate and write one table (or one partition of it), all or nothing.

        A partition is written in append mode: rows are upserted by primary
        key, so rematerializing a partition rewrites exactly its rows and
        leaves the other partitions alone.
        """
        mode = "append" if partition.count > 1 else None
        # An application's table emptied here empties the tables of the Genfile that
        # reference it; they are materialized again downstream.
        options = self.options(tables=[table], partition=partition, mode=mode,
                               may_empty_genfile=True)
        return run(genfile, options, progress)

    def write_day(self, genfile: Genfile, table: str, day: date,
                  progress: ProgressCallback | None = None) -> RunReport:
        """Write one day of an event table partitioned by day (upserted: a rerun rewrites it)."""
        return run(genfile, self.options(tables=[table], day=day), progress)

    def inspector(self, genfile: Genfile, table: str) -> Inspector:
        """A connection that counts rows, duplicates and orphans where ``table`` lives."""
        return inspector(genfile, table, self.options())
