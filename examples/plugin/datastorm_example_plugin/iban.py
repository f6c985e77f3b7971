"""IBANs whose two check digits are valid (ISO 13616: the number mod 97 is 1).

A class generator: the constructor takes the Genfile's parameters by name
and refuses bad ones with a ValueError, which ``datastorm validate`` reports
under the field. ``generate`` draws every row of a chunk at once with numpy;
``space`` and ``from_ordinals`` let a field be ``unique = true``.

Only the IBAN's own check digits are computed: a country's national check
inside the account number (where it has one) is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# Countries whose BBAN is digits only: (bank code digits, account digits).
LAYOUTS: dict[str, tuple[int, int]] = {
    "DE": (8, 10),  # Bankleitzahl, Kontonummer: DE89 3704 0044 0532 0130 00
    "AT": (5, 11),  # Bankleitzahl, Kontonummer: AT61 1904 3002 3457 3201
    "CH": (5, 12),  # IID, account: CH93 0076 2011 6238 5295 7
}
_ZERO = ord("0")


class Iban:
    """An IBAN of ``country``: a bank code (drawn, or one of ``bank_codes``) and an
    account number, with their check digits; ``formatted`` prints it in groups of four."""

    column_type = "text"

    def __init__(self, country: str = "DE", bank_codes: Sequence[str] | None = None,
                 formatted: bool = False) -> None:
        if country not in LAYOUTS:
            raise ValueError(f"country must be one of {', '.join(LAYOUTS)}, got {country!r}")
        bank_digits, self.account_digits = LAYOUTS[country]
        if bank_codes is not None and not _codes_of_width(bank_codes, bank_digits):
            raise ValueError(f"bank_codes must be a list of {country} bank codes, "
                             f"{bank_digits} digits each, got {bank_codes!r}")
        if not isinstance(formatted, bool):
            raise ValueError(f"formatted must be true or false, got {formatted!r}")
        self.country, self.bank_digits, self.formatted = country, bank_digits, formatted
        self.banks = None if bank_codes is None else _digit_rows(bank_codes)
        # The country's letters as the check digits' computation reads them (A = 10 ...
        # Z = 35), followed by the two zeros that stand for the check digits.
        letters = "".join(str(ord(c) - ord("A") + 10) for c in country) + "00"
        self.suffix = np.array([int(d) for d in letters], dtype=np.int64)

    def generate(self, indices: np.ndarray, stream: Any) -> np.ndarray:
        accounts = stream.sub("account").integers(indices, 0, 10**self.account_digits - 1)
        return self._ibans(indices, stream, accounts)

    def space(self) -> int:
        """Distinct account numbers: distinct IBANs whatever the banks."""
        return 10**self.account_digits

    def from_ordinals(self, ordinals: np.ndarray, stream: Any) -> np.ndarray:
        # Ordinal k is account number k: distinct ordinals, distinct IBANs. The bank is
        # drawn from the ordinal too, so the value depends on nothing else.
        return self._ibans(ordinals, stream, ordinals)

    def _ibans(self, keys: np.ndarray, stream: Any, accounts: np.ndarray) -> np.ndarray:
        if self.banks is None:
            banks = _digits(stream.sub("bank").integers(keys, 0, 10**self.bank_digits - 1),
                            self.bank_digits)
        else:
            banks = self.banks[stream.sub("bank").integers(keys, 0, len(self.banks) - 1)]
        bban = np.hstack([banks, _digits(accounts, self.account_digits)])
        # mod 97 of BBAN + country + "00", digit by digit over the whole chunk at once.
        remainder = np.zeros(len(bban), dtype=np.int64)
        for column in (*bban.T, *self.suffix):
            remainder = (remainder * 10 + column) % 97
        check = 98 - remainder
        country = np.broadcast_to(np.array([ord(c) for c in self.country], dtype=np.uint8),
                                  (len(bban), 2))
        codes = np.hstack([country, _digits(check, 2) + _ZERO, bban + _ZERO]).astype(np.uint8)
        if self.formatted:
            codes = _grouped(codes)
        return codes.view(f"S{codes.shape[1]}").ravel().astype(str)


def _codes_of_width(codes: object, width: int) -> bool:
    """A non-empty list of codes of ``width`` digits each."""
    return isinstance(codes, list) and bool(codes) and all(
        isinstance(c, str) and c.isdigit() and len(c) == width for c in codes)


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """Each number's ``width`` decimal digits, most significant first: shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(numbers, dtype=np.int64)[:, None] // powers) % 10


def _digit_rows(codes: Sequence[str]) -> np.ndarray:
    return np.array([[int(c) for c in code] for code in codes], dtype=np.int64)


def _grouped(codes: np.ndarray) -> np.ndarray:
    """Characters in groups of four separated by spaces (the IBAN's printed form)."""
    width = codes.shape[1]
    groups = [codes[:, i:i + 4] for i in range(0, width, 4)]
    space = np.full((len(codes), 1), ord(" "), dtype=np.uint8)
    parts = [part for group in groups for part in (group, space)][:-1]
    return np.ascontiguousarray(np.hstack(parts))
