"""A Genfile read, validated and sized whole: what the command line and Dagster run.

``genfile.load_genfile`` validates a Genfile and sizes the tables the
language alone can size (``per_parent = [min, max]``). A table tied by a
parent's field (``per_parent = "REF.FIELD"``) has as many rows as that
field adds up to, counted by the parent's generators in ``source``: these
loaders stand above both layers, as ``run`` does, and hand out a Genfile
whose every ``Table.records`` is the count a run writes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec

from datastorm_core import genfile as language
from datastorm_core.genfile.model import Genfile
from datastorm_core.source.sizing import sized

__all__ = ["load_genfile", "loads_genfile", "sized"]

P = ParamSpec("P")


def _sized(load: Callable[P, Genfile]) -> Callable[P, Genfile]:
    """The language's loader ``load``, its Genfile sized whole (same parameters)."""
    @functools.wraps(load)
    def sized_load(*args: P.args, **kwargs: P.kwargs) -> Genfile:
        return sized(load(*args, **kwargs))

    sized_load.__doc__ = (f"{inspect.cleandoc(load.__doc__ or '')}\n\nEvery tied table is "
                          "sized, those counted by a parent's field too (``source.sizing``).")
    return sized_load


#: Read, validate and size a Genfile; raise GenfileError listing every problem.
load_genfile = _sized(language.load_genfile)
#: Validate and size Genfile text (tests, previews, embedded Genfiles).
loads_genfile = _sized(language.loads_genfile)
