"""Generators of the user's own: named in a Genfile, found, and given their parameters.

A field's ``type`` names a generator written in Python in one of two ways:

- a dotted path, ``type = "my_pkg.gens:Iban"``: the module ``my_pkg.gens`` is
  imported and its attribute ``Iban`` taken (the ``:`` tells it from a type);
- the name an installed package gives it in the entry point group
  ``datastorm.generators`` (``type = "iban"``).

A built-in type always wins over an entry point of the same name: installing a
package never changes what an existing Genfile means (the plugin stays reachable
by its dotted path). Two packages registering one name make that name an error
that names both.

A generator is a class (its constructor takes the field's parameters by name and
refuses bad ones by raising; its instances have ``generate(indices, stream)``) or
a function ``f(indices, stream, **params)``, whose parameters its attribute
``check(params) -> list[str]`` may check. Either may declare ``column_type``
(default ``"text"``), ``scale``/``precision`` for a decimal column and
``nullable = True`` when it may return None. This module makes one for a field
and reports what is wrong as the Genfile's problems; calling it and checking what
it returns is ``source.generators.plugin``'s.

Importing a module runs its code: a Genfile is trusted input, like code.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from datastorm_core.core.schema import ColumnType
from datastorm_core.core.values import INT64_DIGITS

__all__ = [
    "COLUMN_TYPES",
    "ENTRY_POINT_GROUP",
    "PLUGIN_TYPE",
    "LoadedGenerator",
    "PluginColumn",
    "PluginError",
    "installed_names",
    "is_plugin_name",
    "load_generator",
    "plugin_params",
    "plugin_problems",
]

#: The field type of a user's generator in the model (``Field.type``); the name the
#: Genfile wrote is the parameter ``generator``, its parameters ``options``.
PLUGIN_TYPE = "plugin"
ENTRY_POINT_GROUP = "datastorm.generators"

#: What ``column_type`` may say: the Genfile's type names and the column kinds' own.
COLUMN_TYPES: dict[str, ColumnType] = {
    "text": ColumnType.TEXT,
    "int": ColumnType.BIGINT, "bigint": ColumnType.BIGINT,
    "float": ColumnType.DOUBLE, "double": ColumnType.DOUBLE,
    "decimal": ColumnType.NUMERIC, "numeric": ColumnType.NUMERIC,
    "bool": ColumnType.BOOLEAN, "boolean": ColumnType.BOOLEAN,
    "date": ColumnType.DATE,
    "timestamp": ColumnType.TIMESTAMP,
    "uuid": ColumnType.UUID,
}

_SHAPE = ("a generator is a class whose instances have generate(indices, stream), or a "
          "function (indices, stream, **params)")


class PluginError(ValueError):
    """A user's generator cannot be used as the Genfile names it; the message says why."""


@dataclass(frozen=True)
class PluginColumn:
    """The column a user's generator declares."""

    type: ColumnType
    precision: int | None = None  # NUMERIC only
    scale: int | None = None  # NUMERIC only
    nullable: bool = False  # may return None (a NULL)


@dataclass(frozen=True)
class LoadedGenerator:
    """A user's generator made for one field: its parameters given."""

    name: str  # as the Genfile names it
    generate: Callable[[Any, Any], Any]  # (indices, stream) -> values
    column: PluginColumn
    # ``space()`` and ``from_ordinals(ordinals, stream)``, when it can make distinct
    # values (a unique field); None when it cannot.
    space: Callable[[], Any] | None = None
    from_ordinals: Callable[[Any, Any], Any] | None = None


def is_plugin_name(kind: str) -> bool:
    """Whether a type that is not built in names a user's generator: a dotted path
    (``module:attribute``) or an installed entry point's name."""
    return ":" in kind or kind in _entry_points()


def installed_names() -> tuple[str, ...]:
    """The names of the generators installed packages register, sorted."""
    return tuple(sorted(_entry_points()))


def plugin_params(kind: str, spec: Mapping[str, Any], common: tuple[str, ...]) -> dict[str, Any]:
    """A plugin field's parameters in the model: the generator's name, and the field's
    own parameters (all but ``common``) for the generator, which checks them itself."""
    return {"generator": kind,
            "options": {k: v for k, v in spec.items() if k not in common}}


def plugin_problems(params: Mapping[str, Any]) -> tuple[str, ...]:
    """What is wrong with a plugin field: the generator cannot be found, is not one,
    declares a column type datastorm lacks, or refuses its parameters."""
    try:
        load_generator(params["generator"], params.get("options", {}))
    except PluginError as exc:
        return (str(exc),)
    return ()


def load_generator(name: str, options: Mapping[str, Any]) -> LoadedGenerator:
    """The generator ``name`` made with ``options``.

    Raises:
        PluginError: why it cannot be (the message names the generator).
    """
    target = _resolve(name)
    if inspect.isclass(target):
        if not callable(getattr(target, "generate", None)):
            raise PluginError(f"generator {name!r}: class {target.__qualname__} has no "
                              f"generate method ({_SHAPE})")
        _check_names(name, target, options, skip=0)
        try:
            instance = target(**options)
        except Exception as exc:  # the plugin's own refusal of its parameters
            raise PluginError(f"generator {name!r} refused its parameters: "
                              f"{_described(exc)}") from exc
        space, from_ordinals = (getattr(instance, "space", None),
                                getattr(instance, "from_ordinals", None))
        enumerable = callable(space) and callable(from_ordinals)
        return LoadedGenerator(name, instance.generate, _column(name, instance),
                               space if enumerable else None,
                               from_ordinals if enumerable else None)
    if callable(target):
        _check_names(name, target, options, skip=2)
        given = dict(options)
        _own_check(name, target, given)

        def generate(indices: Any, stream: Any) -> Any:
            return target(indices, stream, **given)

        return LoadedGenerator(name, generate, _column(name, target))
    raise PluginError(f"generator {name!r} is not a generator but an object of type "
                      f"{type(target).__name__} ({_SHAPE})")


def _own_check(name: str, target: object, options: Mapping[str, Any]) -> None:
    """A function's parameters, checked by its ``check(params) -> list[str]`` when it has
    one (a class checks its own in its constructor)."""
    check = getattr(target, "check", None)
    if not callable(check):
        return
    try:
        found = list(check(dict(options)))
    except Exception as exc:
        raise PluginError(f"generator {name!r}: its check failed: {_described(exc)}") from exc
    if found:
        raise PluginError(f"generator {name!r}: " + "; ".join(map(str, found)))


def _column(name: str, declared: object) -> PluginColumn:
    """The column ``declared`` (an instance or a function) says it makes."""
    kind = getattr(declared, "column_type", "text")
    if not isinstance(kind, str) or kind not in COLUMN_TYPES:
        raise PluginError(f"generator {name!r} declares column_type = {kind!r}; it must be "
                          f"one of {', '.join(COLUMN_TYPES)}")
    nullable = getattr(declared, "nullable", False)
    if not isinstance(nullable, bool):
        raise PluginError(f"generator {name!r} declares nullable = {nullable!r}; it must be "
                          "True or False")
    column_type = COLUMN_TYPES[kind]
    if column_type is not ColumnType.NUMERIC:
        return PluginColumn(column_type, nullable=nullable)
    # A decimal travels as an int64 count of 10**-scale: at most 19 digits in all.
    scale = getattr(declared, "scale", None)
    if not _is_int(scale) or not 0 <= scale < INT64_DIGITS:
        raise PluginError(f"generator {name!r} makes decimals and must declare their scale "
                          f"(decimal places) as an integer from 0 to {INT64_DIGITS - 1}, got "
                          f"scale = {scale!r}")
    precision = getattr(declared, "precision", INT64_DIGITS)
    if not _is_int(precision) or not max(scale, 1) <= precision <= INT64_DIGITS:
        raise PluginError(f"generator {name!r} declares precision = {precision!r}; it must be "
                          f"an integer from {max(scale, 1)} to {INT64_DIGITS}")
    return PluginColumn(column_type, precision, scale, nullable)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_names(name: str, target: Callable[..., Any], options: Mapping[str, Any],
                 skip: int) -> None:
    """The parameters the Genfile gives are the ones ``target`` takes by name (after its
    first ``skip`` positional ones: a function's indices and stream)."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):  # a builtin without a signature: let the call tell
        return
    params = list(signature.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    takes_rest = any(p.kind is p.VAR_POSITIONAL for p in params)
    if len(positional) < skip and not takes_rest:
        raise PluginError(f"generator {name!r} takes {len(positional)} positional "
                          f"parameter(s); {_SHAPE}")
    named = [p for p in positional[skip:] if p.kind is p.POSITIONAL_OR_KEYWORD] + \
        [p for p in params if p.kind is p.KEYWORD_ONLY]
    accepted = {p.name for p in named}
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        unknown = [k for k in options if k not in accepted]
        if unknown:
            listed = ", ".join(sorted(accepted)) or "none"
            raise PluginError(f"unknown parameter {', '.join(map(repr, unknown))} for "
                              f"generator {name!r}; it accepts: {listed}")
    needed = [p.name for p in named if p.default is p.empty and p.name not in options]
    needed += [p.name for p in positional[skip:] if p.kind is p.POSITIONAL_ONLY
               and p.default is p.empty]
    if needed:
        raise PluginError(f"generator {name!r} needs {', '.join(f'`{n}`' for n in needed)}")


def _resolve(name: str) -> Any:
    """The object ``name`` names: a dotted path's attribute, or an entry point's."""
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        if not module_name or not attribute:
            raise PluginError(f"generator {name!r} must be written module:attribute, e.g. "
                              "\"my_pkg.gens:Iban\"")
        module = _import(name, module_name)
        found: Any = module
        for part in attribute.split("."):
            try:
                found = getattr(found, part)
            except AttributeError:
                raise PluginError(f"generator {name!r}: module {module_name!r} has no "
                                  f"attribute {attribute!r}") from None
        return found
    registered = _entry_points().get(name, [])
    if not registered:
        raise PluginError(f"no installed package registers a generator named {name!r} "
                          f"(entry point group {ENTRY_POINT_GROUP!r})")
    if len({ep.value for ep in registered}) > 1:
        where = "; ".join(f"{ep.value} ({_distribution(ep)})" for ep in registered)
        raise PluginError(f"generator {name!r} is registered by several packages: {where}; "
                          "name the one you mean by its dotted path, type = \"module:Name\"")
    try:
        return registered[0].load()
    except ModuleNotFoundError as exc:
        raise PluginError(f"generator {name!r} ({registered[0].value}): importing it failed: "
                          f"{_described(exc)}") from exc
    except Exception as exc:
        raise PluginError(f"generator {name!r} ({registered[0].value}) could not be loaded: "
                          f"{_described(exc)}") from exc


def _import(name: str, module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name
                                     or module_name.startswith(exc.name + ".")):
            raise PluginError(f"generator {name!r}: no module named {exc.name!r} (install the "
                              "package that has it, or put its directory on PYTHONPATH)"
                              ) from None
        raise PluginError(f"generator {name!r}: importing module {module_name!r} failed: "
                          f"{_described(exc)}") from exc
    except Exception as exc:  # the module's own code failed while importing
        raise PluginError(f"generator {name!r}: importing module {module_name!r} failed: "
                          f"{_described(exc)}") from exc


def _described(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "unknown package"


@cache
def _entry_points() -> dict[str, list[EntryPoint]]:
    """Installed generators by name, read once per process (scanning the installed
    distributions costs milliseconds; a Genfile of built-in types never asks)."""
    by_name: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        by_name.setdefault(ep.name, []).append(ep)
    return by_name
