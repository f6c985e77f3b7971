"""``lifecycle``'s language: what validation refuses (each with table, field and line), what
it reads (the states, the initial one, the longest path) and how it sizes its table."""

from __future__ import annotations

import numpy as np
import pytest

from datastorm_core.core.hashing import field_key
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.lifecycle import state_machine

ORDER = '[order.id]\ntype = "sequence"\n'
TIE = '[event.order_id]\ntype = "reference"\nref = "order.id"\nper_parent = "status"\n'
STATUS = '[event.status]\ntype = "lifecycle"\nof = "order_id"\n'
SHOP = 'transitions = { created = { paid = 85, cancelled = 15 }, paid = ["shipped"] }\n'


def problems(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(ORDER + text)
    return caught.value.problems


@pytest.mark.parametrize(("text", "where", "message"), [
    # States the transitions do not name, never reach, or go round without an end.
    (TIE + STATUS + SHOP + 'initial = "new"\n', ("event", "status"),
     'initial "new" is not a state of transitions (states: created, paid, cancelled, '
     'shipped)'),
    (TIE + STATUS + SHOP.replace('paid = ["shipped"]', 'lost = ["found"]'), ("event", "status"),
     "states lost, found cannot be reached from the initial state 'created': add a "
     "transition to them, or remove them"),
    (TIE + STATUS + SHOP.replace('["shipped"]', '["shipped"], shipped = { paid = 1 }'),
     ("event", "status"), "transitions go round in a cycle (paid -> shipped -> paid), so a "
                          "path could go on for ever: set max_steps to end it"),
    (TIE + STATUS + 'transitions = { a = ["a"] }\n', ("event", "status"),
     "transitions go round in a cycle (a -> a)"),
    # Weights, shapes and values.
    (TIE + STATUS + SHOP.replace("85", "0"), ("event", "status"),
     "transitions: 'created' -> 'paid': a weight must be a number > 0, got 0"),
    (TIE + STATUS + SHOP.replace("15", "-2.5"), ("event", "status"),
     "transitions: 'created' -> 'cancelled': a weight must be a number > 0, got -2.5"),
    (TIE + STATUS + 'transitions = { a = [1, "b"] }\n', ("event", "status"),
     "transitions: 'a' -> 1: a state is a name (a string)"),
    (TIE + STATUS + 'transitions = {}\n', ("event", "status"), "transitions cannot be empty"),
    (TIE + STATUS + SHOP + "max_steps = 0\n", ("event", "status"),
     "max_steps must be a whole number from 1 to 1,000,000"),
    (TIE + STATUS, ("event", "status"), "type lifecycle needs `transitions`"),
    # `of` must be the tie, and the tie must count this field's paths.
    (TIE + '[event.other]\ntype = "reference"\nref = "order.id"\n' +
     STATUS.replace('"order_id"', '"other"') + SHOP, ("event", "status"),
     "of = 'other' must name the reference that ties this table to its parent by "
     "per_parent"),
    (TIE.replace('"status"', "[1, 3]") + STATUS + SHOP, ("event", "status"),
     "of = 'order_id': each row of a parent holds one state of the parent's path, so "
     'order_id must say per_parent = "status"'),
    # per_parent naming something that is not a lifecycle field of this table.
    (TIE.replace('"status"', '"kind"') + '[event.kind]\ntype = "int"\n', ("event", "order_id"),
     "per_parent = 'kind': kind is of type int, not a lifecycle of event"),
    (TIE.replace('"status"', '"nope"'), ("event", "order_id"),
     "per_parent = 'nope': no field of event"),
    (TIE + '[other.order_id]\ntype = "reference"\nref = "order.id"\n'
     '[event.status]\ntype = "lifecycle"\nof = "order_id"\n' + SHOP + '[other.status]\n'
     'type = "lifecycle"\nof = "order_id"\n' + SHOP, ("other", "status"),
     "of = 'order_id' must name the reference that ties this table"),
    # Not a mutable field: the stream cannot change a path's step.
    (TIE + STATUS + SHOP + "mutable = true\n", ("event", "status"),
     "a field derived from other fields cannot be mutable"),
])
def test_validate_refuses_a_lifecycle_that_cannot_hold(text: str, where: tuple[str, str],
                                                       message: str) -> None:
    found = problems(text)
    matching = [p for p in found if p.message.startswith(message)]
    assert matching, found
    assert (matching[0].table, matching[0].field) == where
    header = f"[{where[0]}.{where[1]}]"
    assert matching[0].line == (ORDER + text).splitlines().index(header) + 1


def test_a_cycle_with_max_steps_is_valid_and_bounded_by_it() -> None:
    text = TIE + STATUS + 'transitions = { a = ["b"], b = { a = 1, z = 1 } }\nmax_steps = 7\n'
    genfile = loads_genfile(ORDER + text)
    machine = state_machine(genfile.table("event").field("status").params)
    assert machine.states == ("a", "b", "z") and machine.initial == 0
    assert machine.max_steps == 7 and machine.longest() == 7
    assert machine.nexts == ((1,), (0, 2), ()) and machine.weights == ((1.0,), (1.0, 1.0), ())


def test_the_initial_state_is_the_first_named_unless_given() -> None:
    machine = state_machine({"transitions": {"b": ["c"], "a": ["b"]}})
    assert machine.states[machine.initial] == "b" and machine.longest() == 2
    machine = state_machine({"transitions": {"b": ["c"], "a": ["b"]}, "initial": "a"})
    assert machine.states[machine.initial] == "a" and machine.longest() == 3
    assert machine.max_steps == 20
    assert state_machine({"transitions": {"a": ["b"], "b": ["c"]}, "max_steps": 2}
                         ).longest() == 2


def test_validation_sizes_the_table_from_the_paths_alone() -> None:
    # No generator is asked: the paths depend on the parent's index only.
    genfile = loads_genfile('[dataset]\nseed = 4\n[order]\nrecords = 500\n' + ORDER + TIE +
                            STATUS + SHOP)
    assert not genfile.unsized
    machine = state_machine(genfile.table("event").field("status").params)
    lengths = machine.lengths(field_key(4, "event", "status"), np.arange(500))
    assert genfile.table("event").records == lengths.sum()
    assert set(lengths.tolist()) == {2, 3}  # created, cancelled; created, paid, shipped
