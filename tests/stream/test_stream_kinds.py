"""The kinds of event the Genfile's language names are the kinds the executor can run."""

from __future__ import annotations

from datastorm_core.genfile.streaming import KINDS
from datastorm_core.stream.kinds import HANDLERS


def test_every_kind_of_the_language_has_a_handler_and_no_other() -> None:
    assert set(HANDLERS) == set(KINDS)
