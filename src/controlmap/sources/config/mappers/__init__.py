"""Mappers: one function per AWS Config resource type, filling the normalized models.

A mapper turns one (latest, existing) configuration item into resources. A finisher runs once
all items are mapped, for facts that join several resource types (a VPC's flow logs are items of
their own). Importing this package registers the built-in mappers.
"""

from __future__ import annotations

import importlib
import pkgutil

from controlmap.sources.config.mappers._base import (
    MapContext,
    finishers,
    mapped_types,
    mapper_for,
)

__all__ = ["MapContext", "finishers", "mapped_types", "mapper_for"]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
