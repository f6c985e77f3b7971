"""Example datastorm generators: ``iban`` (a class) and ``sku`` (a function)."""

from datastorm_example_plugin.iban import Iban
from datastorm_example_plugin.sku import sku

__all__ = ["Iban", "sku"]
