"""Tables handed to downstream assets as pandas DataFrames, through an I/O manager.

With ``build_definitions(..., frames=True)`` (or ``frames = true`` in the
Genfile's ``[dagster]``), every table asset's output is managed by
``DatastormFrameIOManager``: a user's asset that takes a table as an
argument gets its rows as a DataFrame::

    @dg.asset
    def vip_customers(customer: pd.DataFrame) -> pd.DataFrame:
        return customer[customer["vip"].fillna(False)]

The rows are not read back from the target: they are generated again with
``datastorm_core.to_pandas``, which makes exactly the rows the
materialization wrote (a row is a pure function of seed, table and index),
so it works the same whatever the target (PostgreSQL, files, Kafka) and
costs no query. It refuses, rather than hand over other rows, when the
table's last materialization came from another definition or seed than the
Genfile's now (materialize the table again first). A partitioned table
hands over the partitions the downstream asset asks for, in key order,
indexed by row index. Tables write their rows themselves, so the manager
stores nothing.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from datastorm_core.errors import DatastormError
from datastorm_core.frames import to_pandas
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.tables import row_range
from datastorm_dagster.partitions import partition_for_key
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX

__all__ = ["DatastormFrameIOManager"]

# What the rows of a materialization depend on, as the asset's metadata records it.
_SEED_KEY = f"{METADATA_PREFIX}/seed"
_DIGEST_KEY = f"{METADATA_PREFIX}/table_digest"


class DatastormFrameIOManager(dg.ConfigurableIOManager):
    """Loads a datastorm table asset as a ``pandas.DataFrame`` (``to_pandas``'s dtypes)."""

    # The same settings as the DatastormResource that writes the tables (a nested
    # resource would be the obvious form, but Dagster warns of a deprecation inside it).
    genfile: str
    target: str | None = None
    targets: dict[str, str] = Field(default_factory=dict)

    @property
    def datastorm(self) -> DatastormResource:
        return DatastormResource(genfile=self.genfile, target=self.target,
                                 targets=dict(self.targets))

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        # A table asset returns no value: its run wrote the rows to the target already.
        if obj is not None:
            raise dg.DagsterInvariantViolationError(
                f"{context.asset_key.to_user_string()}: DatastormFrameIOManager loads "
                "datastorm's tables and stores nothing; give this asset another I/O manager")

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        datastorm = self.datastorm
        genfile = datastorm.load()
        name = context.asset_key.path[-1]  # the translator keeps the table's name last
        if name not in genfile.table_names:
            raise dg.Failure(f"{context.asset_key.to_user_string()} is not a table of "
                             f"{self.genfile}")
        table = genfile.table(name)
        self._check_materialization(context, genfile, table)
        keys = sorted(context.asset_partition_keys, key=_key_order) \
            if context.has_asset_partitions else [None]
        options = datastorm.options()
        try:
            frames = [to_pandas(genfile, name, rows=range(*self._rows(genfile, table, key)),
                                options=options) for key in keys]
        except DatastormError as exc:
            raise dg.Failure(description=str(exc)) from None
        frame = frames[0] if len(frames) == 1 else pd.concat(frames)
        context.log.info(f"{name}: {len(frame):,} rows as a DataFrame")
        return frame

    @staticmethod
    def _rows(genfile: Genfile, table: Table, key: str | None) -> tuple[int, int]:
        if key is not None and table.daily is not None:
            return row_range(genfile, table.name, day=pd.Timestamp(key).date())
        return row_range(genfile, table.name, partition_for_key(genfile, key))

    @staticmethod
    def _check_materialization(context: dg.InputContext, genfile: Genfile,
                               table: Table) -> None:
        """Refuse rows of a definition or seed other than the last materialization's."""
        event = context.instance.get_latest_materialization_event(context.asset_key)
        materialized = event.asset_materialization if event is not None else None
        if materialized is None:
            context.log.warning(f"{table.name!r} has no materialization in this instance: its "
                                "DataFrame holds the rows the Genfile makes now")
            return
        written = {k: getattr(v, "value", v) for k, v in materialized.metadata.items()}
        expected = {_SEED_KEY: genfile.dataset.seed,
                    _DIGEST_KEY: genfile.table_digests.get(table.name, "")}
        changed = [k for k, v in expected.items() if k in written and written[k] != v]
        if changed:
            raise dg.Failure(
                f"{table.name!r} was last materialized with {', '.join(changed)} "
                f"{', '.join(repr(written[k]) for k in changed)}, but the Genfile now makes "
                f"other rows: materialize {table.name!r} again before reading it as a "
                "DataFrame")


def _key_order(key: str) -> tuple[int, str]:
    """Static partition keys ("0".."N-1") in number order, days in date order."""
    return (int(key), "") if key.isdigit() else (0, key)
