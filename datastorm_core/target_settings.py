"""The Genfile's ``[target]`` and ``[targets.NAME]`` sections checked against the
targets they name, with their lines: an option the target does not know, or a
value it refuses (``copy_connections = 99``), is a Genfile error that
``validate`` reports, not a surprise when a run opens the target.

The language (``genfile``) knows the section's keys; only the targets know
their options, so the check lives here, where both are in reach.
"""

from __future__ import annotations

from datastorm_core.errors import Problem, UsageError
from datastorm_core.genfile.model import Genfile, TargetConfig
from datastorm_core.target.registry import open_target, resolve_url

__all__ = ["target_problems"]


def target_problems(genfile: Genfile) -> list[Problem]:
    """Each target section whose options its own target refuses."""
    sections: list[tuple[str, TargetConfig]] = [("target", genfile.target)]
    sections += [(f"targets.{name}", config) for name, config in genfile.targets.items()]
    problems = []
    for section, config in sections:
        if not config.options or not config.named:
            continue  # a [target] naming no target lends its options to --target's
        try:
            # Built, never opened: the options and the URL's form are checked, nothing
            # is connected to (a URL from an unset variable stands as its type's default).
            open_target(resolve_url(config.url or config.type), mode=config.mode,
                        options=config.options)
        except UsageError as exc:
            problems.append(Problem(str(exc), section, None, genfile.line_of(section)))
    return problems
