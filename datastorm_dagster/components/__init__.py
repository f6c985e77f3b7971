"""Dagster Components of datastorm."""

from datastorm_dagster.components.genfile.component import DatastormGenfileComponent

__all__ = ["DatastormGenfileComponent"]
