"""``defs`` for ``workspace.yaml``: the Genfile and target named by the environment.

``defs`` is built from the Genfile named by ``DATASTORM_GENFILE`` (default
``Genfile.toml``; a relative path is relative to the code location's working
directory, see ``code_location_directory``) and writes to ``DATASTORM_TARGET`` when that is set,
else to the Genfile's ``[target]``; a named target ``[targets.NAME]`` goes
to ``DATASTORM_TARGET_<NAME>`` when that is set. ``DATASTORM_EXECUTOR`` says
where the steps run (``executor_from_environment``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dagster as dg

from datastorm_dagster.factory import build_definitions

__all__ = ["DEFAULT_GENFILE", "EXECUTORS", "NAMED_TARGET_PREFIX", "build_definitions",
           "code_location_directory", "defs", "executor_from_environment"]

DEFAULT_GENFILE = "Genfile.toml"


# A named target [targets.NAME] takes its URL from DATASTORM_TARGET_<NAME> (upper case).
NAMED_TARGET_PREFIX = "DATASTORM_TARGET_"


def definitions_from_environment() -> dg.Definitions:
    """The definitions ``DATASTORM_GENFILE``, ``DATASTORM_TARGET`` and
    ``DATASTORM_TARGET_<NAME>`` (a named target's URL) describe."""
    genfile = str(code_location_directory() / os.environ.get("DATASTORM_GENFILE",
                                                            DEFAULT_GENFILE))
    target = dg.EnvVar("DATASTORM_TARGET") if os.environ.get("DATASTORM_TARGET") else None
    return build_definitions(genfile, target=target, targets=named_targets(genfile),
                             executor=executor_from_environment())


EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")


def executor_from_environment() -> dg.ExecutorDefinition:
    """``DATASTORM_EXECUTOR``: ``in_process`` (the default: every step in the run's
    process), ``multiprocess`` (a process per step) or ``celery`` (each step to a
    Celery worker; broker ``DATASTORM_CELERY_BROKER``, result backend
    ``DATASTORM_CELERY_BACKEND``, default ``rpc://``; queue
    ``DATASTORM_CELERY_QUEUE``, default ``dagster``, for deployments sharing a
    broker; needs ``datastorm[scale]``) or ``k8s`` (a pod per step; needs
    ``datastorm[k8s]``).

    The workers load this same module, so they must see the same variables."""
    name = os.environ.get("DATASTORM_EXECUTOR", "in_process").strip() or "in_process"
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor
    if name == "k8s":
        return _k8s_executor()
    if name != "celery":
        raise dg.DagsterInvalidDefinitionError(
            f"DATASTORM_EXECUTOR={name!r}: expected one of {', '.join(EXECUTORS)}")
    try:
        from dagster_celery import celery_executor
    except ImportError:
        raise dg.DagsterInvalidDefinitionError(
            "DATASTORM_EXECUTOR=celery needs dagster-celery: pip install 'datastorm[scale]'"
        ) from None
    if not os.environ.get("DATASTORM_CELERY_BROKER"):
        raise dg.DagsterInvalidDefinitionError(
            "DATASTORM_EXECUTOR=celery needs DATASTORM_CELERY_BROKER (e.g. redis://redis:6379/0)")
    # Named, not copied: the URLs stay in the environment, out of the run's config.
    config: dict[str, object] = {"broker": {"env": "DATASTORM_CELERY_BROKER"}}
    if os.environ.get("DATASTORM_CELERY_BACKEND"):
        config["backend"] = {"env": "DATASTORM_CELERY_BACKEND"}
    if os.environ.get("DATASTORM_CELERY_QUEUE"):
        # The workers listen on it: `dagster-celery worker start -q QUEUE`.
        config["config_source"] = {"task_default_queue": os.environ["DATASTORM_CELERY_QUEUE"]}
    return celery_executor.configured(config)


def _k8s_executor() -> dg.ExecutorDefinition:
    """A pod per step (dagster-k8s): each table, partition or fanned-out slice in a pod
    of its own. The pods take their image, secrets and namespace from the run
    launcher's settings (the Helm chart's ``runLauncher``), so nothing is set here."""
    try:
        from dagster_k8s import k8s_job_executor
    except ImportError:
        raise dg.DagsterInvalidDefinitionError(
            "DATASTORM_EXECUTOR=k8s needs dagster-k8s: pip install 'datastorm[k8s]'"
        ) from None
    return k8s_job_executor


# Where Dagster imports a code location's module (dagster._core.code_pointer).
_DAGSTER_LOADERS = frozenset({"load_python_module", "load_python_file"})


def code_location_directory() -> Path:
    """The directory a relative Genfile path is relative to: the code location's.

    Every process that runs a step imports this module again: the webserver's
    code server, but also a Celery worker or a Kubernetes pod started in any
    directory. The worker's own working directory is no anchor (a worker started
    elsewhere looked for ./Genfile.toml there and failed); the code location's
    working directory is, and Dagster hands it to every process that loads the
    code (``working_directory`` in workspace.yaml, ``-d`` on the command line, the
    run's code pointer in a worker). It is read from Dagster's loader, which is
    importing this module; imported any other way, the process's working directory.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if (frame.f_code.co_name in _DAGSTER_LOADERS
                and frame.f_globals.get("__name__") == "dagster._core.code_pointer"):
            directory = frame.f_locals.get("working_directory")
            if directory:
                return Path(directory).expanduser().resolve()
        frame = frame.f_back
    return Path.cwd()


def named_targets(genfile: str) -> dict[str, str]:
    """URLs of the Genfile's named targets given in the environment."""
    from datastorm_core.genfile import load_genfile

    try:
        names = list(load_genfile(genfile, target_overridden=True,
                                  named_overridden=True).targets)
    except Exception:  # the factory reports the Genfile's problems itself
        return {}
    found = {}
    for name in names:
        value = os.environ.get(NAMED_TARGET_PREFIX + name.upper())
        if value:
            found[name] = value
    return found


defs = definitions_from_environment()
