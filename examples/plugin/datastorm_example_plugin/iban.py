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


class Iban:
    """An IBAN of ``country``: a bank code (drawn, or one of ``bank_codes``) and an
    account number, with their check digits; ``formatted`` prints it in groups of four."""

    column_type = "text"

    def __init__(self, country: str = "DE", bank_codes: Sequence[str] | None = None,
                 formatted: bool = False) -> None:
        if country not in LAYOUTS:
            raise ValueError(f"country must be one of {', '.join(LAYOUTS)}, got {country!r}")
        self.bank_digits, self.account_digits = LAYOUTS[country]
        if bank_codes is not None and not _codes_of_width(bank_codes, self.bank_digits):
            raise ValueError(f"bank_codes must be a list of {country} bank codes, "
                             f"{self.bank_digits} digits each, got {bank_codes!r}")
        if not isinstance(formatted, bool):
            raise ValueError(f"formatted must be true or false, got {formatted!r}")
        self.country, self.formatted = country, formatted
        self.banks = None if bank_codes is None else np.array(bank_codes, dtype=np.int64)
        # ISO 13616: BBAN + country + check digits, read as one number with letters as
        # 10..35, is 1 mod 97. With "00" in the check digits' place the number ends in
        # this tail, and the check digits are 98 minus its remainder.
        self.tail = int("".join(str(ord(c) - ord("A") + 10) for c in country) + "00")

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
            banks = stream.sub("bank").integers(keys, 0, 10**self.bank_digits - 1)
        else:
            banks = self.banks[stream.sub("bank").integers(keys, 0, len(self.banks) - 1)]
        # The number is too long for 64 bits: its remainder is taken part by part,
        # (a * 10**k + b) mod 97 = ((a mod 97) * (10**k mod 97) + b) mod 97.
        remainder = (banks % 97 * pow(10, self.account_digits, 97) + accounts % 97) % 97
        remainder = (remainder * pow(10, len(str(self.tail)), 97) + self.tail) % 97
        check = 98 - remainder
        text = _joined(np.full(len(keys), self.country), _padded(check, 2),
                       _padded(banks, self.bank_digits), _padded(accounts, self.account_digits))
        return _grouped(text) if self.formatted else text


def _codes_of_width(codes: object, width: int) -> bool:
    """A non-empty list of codes of ``width`` digits each."""
    return isinstance(codes, list) and bool(codes) and all(
        isinstance(c, str) and c.isdigit() and len(c) == width for c in codes)


def _padded(numbers: np.ndarray, width: int) -> np.ndarray:
    """Numbers as text of ``width`` digits, zeros in front."""
    return np.char.zfill(numbers.astype(str), width)


def _joined(*parts: np.ndarray) -> np.ndarray:
    joined = parts[0]
    for part in parts[1:]:
        joined = np.char.add(joined, part)
    return joined


def _grouped(text: np.ndarray) -> np.ndarray:
    """Each value in groups of four characters separated by spaces (the printed form)."""
    width = text.dtype.itemsize // 4  # numpy stores a character in 4 bytes
    chars = text.view("U1").reshape(len(text), width)
    space = np.full((len(text), 1), " ")
    parts = [part for i in range(0, width, 4) for part in (chars[:, i:i + 4], space)][:-1]
    spaced = np.ascontiguousarray(np.hstack(parts))
    return spaced.view(f"U{spaced.shape[1]}").ravel()
