"""Brazil's reference data: states (UF), CEP ranges, area codes (DDD), municipalities.

The state names come from Faker's pt_BR address provider (``estados``).
What Faker does not have is supplied here, as facts: each state's
population (2022 census, in thousands, rounded), its CEP ranges (the first
five digits the Correios assign to it) and its area codes (Anatel's DDD
plan). The municipalities are a data file shipped with the package,
``source/data/br_municipalities.csv``: every state capital and a
selection of the largest municipalities of each state, with populations
rounded from the 2022 census. It is not a complete list of Brazil's 5,570
municipalities, and the documentation says so.

Everything is read once and kept as numpy arrays.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from datastorm_core.source.services.text import ascii_slug

__all__ = [
    "MUNICIPALITIES_FILE",
    "Municipalities",
    "States",
    "municipalities",
    "states",
]

MUNICIPALITIES_FILE = "source/data/br_municipalities.csv"

# code: (population in thousands, CEP prefix ranges (5 digits, inclusive), DDDs)
_FACTS: dict[str, tuple[int, tuple[tuple[int, int], ...], tuple[int, ...]]] = {
    "AC": (830, ((69900, 69999),), (68,)),
    "AL": (3127, ((57000, 57999),), (82,)),
    "AP": (733, ((68900, 68999),), (96,)),
    "AM": (3941, ((69000, 69299), (69400, 69899)), (92, 97)),
    "BA": (14141, ((40000, 48999),), (71, 73, 74, 75, 77)),
    "CE": (8794, ((60000, 63999),), (85, 88)),
    "DF": (2817, ((70000, 72799), (73000, 73699)), (61,)),
    "ES": (3834, ((29000, 29999),), (27, 28)),
    "GO": (7056, ((72800, 72999), (73700, 76799)), (62, 64)),
    "MA": (6777, ((65000, 65999),), (98, 99)),
    "MT": (3658, ((78000, 78899),), (65, 66)),
    "MS": (2757, ((79000, 79999),), (67,)),
    "MG": (20539, ((30000, 39999),), (31, 32, 33, 34, 35, 37, 38)),
    "PA": (8121, ((66000, 68899),), (91, 93, 94)),
    "PB": (3974, ((58000, 58999),), (83,)),
    "PR": (11444, ((80000, 87999),), (41, 42, 43, 44, 45, 46)),
    "PE": (9058, ((50000, 56999),), (81, 87)),
    "PI": (3271, ((64000, 64999),), (86, 89)),
    "RJ": (16055, ((20000, 28999),), (21, 22, 24)),
    "RN": (3302, ((59000, 59999),), (84,)),
    "RS": (10883, ((90000, 99999),), (51, 53, 54, 55)),
    "RO": (1582, ((76800, 76999),), (69,)),
    "RR": (636, ((69300, 69399),), (95,)),
    "SC": (7610, ((88000, 89999),), (47, 48, 49)),
    "SP": (44411, ((1000, 19999),), (11, 12, 13, 14, 15, 16, 17, 18, 19)),
    "SE": (2210, ((49000, 49999),), (79,)),
    "TO": (1511, ((77000, 77999),), (63,)),
}


@dataclass(frozen=True)
class States:
    """The 27 federative units, in Faker's order (alphabetical by name)."""

    codes: np.ndarray  # "SP"
    names: np.ndarray  # "São Paulo"
    population: np.ndarray  # int64, thousands
    cep_ranges: tuple[tuple[tuple[int, int], ...], ...]  # per state
    ddds: tuple[tuple[int, ...], ...]  # per state

    def __len__(self) -> int:
        return len(self.codes)

    def positions(self, values: np.ndarray) -> np.ndarray:
        """Positions (0..26) of state codes or names, e.g. from a ``state`` field.

        Each distinct value is looked up once. Codes and names match
        whatever their case and accents ("sp", "Sao Paulo"); anything else
        raises ValueError naming the value.
        """
        if len(values) == 0:
            return np.zeros(0, dtype=np.intp)
        distinct, inverse = np.unique(np.asarray(values).astype(str), return_inverse=True)
        lookup = _state_lookup()
        found = np.empty(len(distinct), dtype=np.intp)
        for i, value in enumerate(distinct.tolist()):
            position = lookup.get(" ".join(ascii_slug(value)))
            if position is None:
                raise ValueError(f"{value!r} is not a Brazilian state: a state field must hold "
                                 "UF codes (\"SP\") or state names (\"São Paulo\")")
            found[i] = position
        return found[inverse.reshape(-1)]


@lru_cache(maxsize=1)
def states() -> States:
    from faker.providers.address.pt_BR import Provider

    estados = tuple(Provider.estados)
    codes = [code for code, _ in estados]
    if sorted(codes) != sorted(_FACTS):
        raise LookupError("Faker's pt_BR states differ from the 27 UFs datastorm knows")
    return States(
        codes=np.array(codes),
        names=np.array([name for _, name in estados]),
        population=np.array([_FACTS[c][0] for c in codes], dtype=np.int64),
        cep_ranges=tuple(_FACTS[c][1] for c in codes),
        ddds=tuple(_FACTS[c][2] for c in codes),
    )


@lru_cache(maxsize=1)
def _state_lookup() -> dict[str, int]:
    s = states()
    lookup: dict[str, int] = {}
    for position, (code, name) in enumerate(zip(s.codes.tolist(), s.names.tolist(), strict=True)):
        lookup[code.lower()] = position
        lookup[" ".join(ascii_slug(name))] = position
    return lookup


@dataclass(frozen=True)
class Municipalities:
    """The shipped municipalities, grouped by state (in ``States`` order).

    ``names[start[s]:start[s + 1]]`` are the municipalities of state ``s``.
    ``within`` is, per municipality, ``s`` plus the cumulative share of its
    state's population up to and including it: an increasing array, so a
    draw among one state's municipalities is one ``searchsorted``.
    """

    names: np.ndarray
    state: np.ndarray  # position of each municipality's state
    population: np.ndarray  # int64
    cumulative: np.ndarray  # float64: population drawn over the whole country
    start: np.ndarray  # int64, len(states) + 1
    within: np.ndarray  # float64

    def __len__(self) -> int:
        return len(self.names)


@lru_cache(maxsize=1)
def municipalities() -> Municipalities:
    text = resources.files("datastorm_core").joinpath(MUNICIPALITIES_FILE).read_text("utf-8")
    s = states()
    position = {code: i for i, code in enumerate(s.codes.tolist())}
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        uf = record["uf"]
        if uf not in position:
            raise LookupError(f"{MUNICIPALITIES_FILE}: unknown UF {uf!r}")
        rows.append((position[uf], record["name"], int(record["population"])))
    rows.sort()  # by state, then name: independent of the file's order
    state = np.array([r[0] for r in rows], dtype=np.int64)
    population = np.array([r[2] for r in rows], dtype=np.int64)
    counts = np.bincount(state, minlength=len(s))
    if (counts == 0).any():
        missing = s.codes[counts == 0].tolist()
        raise LookupError(f"{MUNICIPALITIES_FILE}: no municipality for {', '.join(missing)}")
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    totals = np.bincount(state, weights=population, minlength=len(s))
    shares = np.empty(len(rows), dtype=np.float64)
    for st in range(len(s)):
        segment = slice(start[st], start[st + 1])
        shares[segment] = np.cumsum(population[segment]) / totals[st]
        shares[start[st + 1] - 1] = 1.0  # exactly 1, whatever the rounding
    return Municipalities(
        names=np.array([r[1] for r in rows]),
        state=state,
        population=population,
        cumulative=np.cumsum(population.astype(np.float64)),
        start=start,
        within=state + shares,
    )
