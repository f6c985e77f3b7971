"""Where each table of a run goes: the target URLs after the command line's (or
Dagster's) overrides, and the targets built from them, not yet connected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from datastorm_core.errors import UsageError
from datastorm_core.genfile.model import Genfile, TargetConfig
from datastorm_core.options import RunOptions
from datastorm_core.target.base import BaseTarget
from datastorm_core.target.registry import TARGET_CLASSES, open_target, resolve_url
from datastorm_core.target.urls import scheme_of

__all__ = ["parse_target_for", "prepare_target", "routed", "target_url"]


def parse_target_for(items: Sequence[str]) -> dict[str, str]:
    """``--target-for NAME=URL`` arguments (repeated) as {name: URL}."""
    named: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise UsageError(f"--target-for takes NAME=URL, e.g. events=kafka://localhost:9092, "
                             f"got {item!r}")
        named[name.strip()] = url.strip()
    return named


def target_url(genfile: Genfile, options: RunOptions, name: str | None = None) -> str:
    """Where target ``name`` (None: the default) writes: the command line, else the Genfile."""
    if name is None:
        return resolve_url(options.target or genfile.target.url or genfile.target.type)
    config = _named(genfile, name)
    return resolve_url(options.target_for.get(name) or config.url or config.type)


def routed(genfile: Genfile, options: RunOptions) -> Genfile:
    """The Genfile with each target's ``url`` and ``type`` what they are after the
    command line's (or Dagster's) overrides: a Kafka target given a PostgreSQL URL
    is PostgreSQL. For whoever labels or checks tables by where they go.
    """
    def retyped(config: TargetConfig, name: str | None) -> TargetConfig:
        url = target_url(genfile, options, name)
        scheme = scheme_of(url)
        return replace(config, url=url, type="postgres" if scheme == "postgresql" else scheme)

    return replace(genfile, target=retyped(genfile.target, None),
                   targets={name: retyped(config, name)
                            for name, config in genfile.targets.items()})


def _named(genfile: Genfile, name: str) -> TargetConfig:
    if name not in genfile.targets:
        raise UsageError(f"no target named {name!r} in the Genfile; named targets: "
                         f"{', '.join(genfile.targets) or 'none'}")
    return genfile.targets[name]


def prepare_target(genfile: Genfile, options: RunOptions, name: str | None = None) -> BaseTarget:
    """Build (but do not connect) target ``name``; raise UsageError on bad settings."""
    for unknown in options.target_for:
        _named(genfile, unknown)
    config = genfile.target if name is None else _named(genfile, name)
    url = target_url(genfile, options, name)
    genfile_url = resolve_url(config.url or config.type)
    # A day is added to what is there (and rewritten on a rerun): append.
    mode = "append" if options.day is not None else (options.mode or config.mode)
    # The Genfile's target options belong to its target type only; a [target] that
    # names no target (only options) lends them to the command line's.
    same_kind = scheme_of(url) == scheme_of(genfile_url) or not config.named
    selected = set(options.tables or genfile.table_names)
    may_empty = [t.name for t in genfile.tables if t.name not in selected
                 and t.target == name] if options.may_empty_genfile else []
    target_options = dict(config.options) if same_kind else {}
    if options.lock_timeout is not None:
        kind = TARGET_CLASSES[scheme_of(url)]
        for name in ("lock_timeout", "timeout"):  # PostgreSQL's, sqlite's busy timeout
            if name in kind.accepted_options:
                target_options[name] = options.lock_timeout
                break
    target = open_target(
        url,
        mode=mode,
        constraints=genfile.dataset.constraints,
        partition=(options.partition.index, options.partition.count),
        options=target_options or None,
        seed=genfile.dataset.seed,
        may_empty=may_empty,
    )
    if not same_kind and config.options:
        section = "[target]" if name is None else f"[targets.{name}]"
        target.warnings.append(
            f"{section} options {', '.join(sorted(config.options))} are for its "
            f"{config.type} target, and this run writes to {scheme_of(url)}: not used")
    return target
