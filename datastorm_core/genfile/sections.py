"""The ``[dataset]``, ``[target]`` and ``[targets.NAME]`` sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datastorm_core.core.modes import CONSTRAINT_MODES, WRITE_MODES
from datastorm_core.errors import Problem
from datastorm_core.genfile.collector import Collector
from datastorm_core.genfile.literals import is_int, toml_text
from datastorm_core.genfile.model import (
    Dataset,
    TargetConfig,
)
from datastorm_core.genfile.parse import expand_env
from datastorm_core.genfile.timeexpr import TimeExprError, parse_anchor
from datastorm_core.secrets import remember

__all__ = ["TARGET_TYPES", "dataset_section", "target_section"]

TARGET_TYPES = ("postgres", "sqlite", "csv", "jsonl", "parquet", "console", "null", "kafka")


def dataset_section(spec: Any, out: Collector) -> Dataset:
    if not isinstance(spec, dict):
        out.add("[dataset] must be a table")
        return Dataset()
    known = ("seed", "records", "buffer_size", "batch_size", "locale", "partitions", "now",
             "constraints")
    for key in spec:
        if key not in known:
            out.add(f"unknown option {key!r}; expected one of {', '.join(known)}", "dataset")
    values: dict[str, Any] = {}
    for key, minimum in (("seed", None), ("records", 0), ("buffer_size", 1), ("batch_size", 1),
                         ("partitions", 1)):
        if key in spec:
            value = spec[key]
            if not is_int(value):
                out.add(f"{key} must be an integer, got {value!r}", "dataset")
            elif minimum is not None and value < minimum:
                out.add(f"{key} must be at least {minimum}, got {value}", "dataset")
            else:
                values[key] = value
    if "locale" in spec:
        if isinstance(spec["locale"], str):
            values["locale"] = spec["locale"]
        else:
            out.add(f"locale must be a string like \"pt_BR\", got {spec['locale']!r}", "dataset")
    if "now" in spec:
        try:
            values["now"] = parse_anchor(spec["now"])
        except TimeExprError as exc:
            out.add(f"now: {exc}", "dataset")
    if "constraints" in spec:
        if spec["constraints"] in CONSTRAINT_MODES:
            values["constraints"] = spec["constraints"]
        else:
            out.add(f"constraints must be one of {', '.join(CONSTRAINT_MODES)}, "
                    f"got {spec['constraints']!r}", "dataset")
    return Dataset(**values)


def target_section(
    spec: Any,
    section: str,
    out: Collector,
    environ: Mapping[str, str] | None,
    skip_env: bool,
) -> TargetConfig:
    if not isinstance(spec, dict):
        out.add(f"[{section}] must be a table")
        return TargetConfig()
    # An unset variable in `url` is one mistake: it is reported as unset
    # below, not a second time as an empty url.
    url_unset: list[Problem] = []
    expand_env(spec.get("url"), url_unset, environ)
    env_problems: list[Problem] = []
    spec = expand_env(spec, env_problems, environ, (section, None))
    if not skip_env:
        for p in env_problems:
            out.add(p.message, section)
    kind = spec.get("type")
    if kind is not None and not isinstance(kind, str):
        out.add(f"type must be a string like \"postgres\", got {toml_text(kind)}", section)
        kind = None
    if kind == "postgresql":
        kind = "postgres"
    url = spec.get("url")
    if isinstance(url, str):
        remember(url)  # read from the Genfile or the environment: never printed
    if kind == "kafka" and isinstance(url, str) and url.strip() and "://" not in url:
        url = "kafka://" + url.strip()  # the contract's url = "host:port[,host:port]"
    if url is not None and not isinstance(url, str):
        out.add(f"url must be a string, got {toml_text(url)}", section)
        url = None
    elif url is not None and not url.strip() and url_unset:
        url = None
    elif url is not None and not url.strip() and not skip_env:
        out.add("url is empty (is the environment variable it names set to \"\"?)", section)
        url = None
    if url:
        scheme = url.split(":", 1)[0] if ":" in url else None
        scheme = "postgres" if scheme == "postgresql" else scheme
        if scheme is None:
            out.add(f"url {url!r} has no scheme; write e.g. sqlite:///{url} or "
                    "postgresql://user@host:5432/db", section)
        elif kind is not None and scheme != kind and not skip_env:
            out.add(f"type {kind!r} does not match the url's scheme {scheme!r}", section)
        kind = kind or scheme
    kind = kind or "sqlite"
    if kind not in TARGET_TYPES:
        out.add(f"unknown target type {kind!r}; expected one of {', '.join(TARGET_TYPES)}",
                section)
    mode = spec.get("mode", "replace")
    if mode not in WRITE_MODES:
        out.add(f"mode must be one of {', '.join(WRITE_MODES)}, got {mode!r}", section)
    options = {k: v for k, v in spec.items() if k not in ("type", "url", "mode")}
    named = "type" in spec or "url" in spec
    return TargetConfig(type=kind, url=url, mode=mode, options=options, named=named)
