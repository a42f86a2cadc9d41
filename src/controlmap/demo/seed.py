"""Seed the demo account: each service module registers a seeder with compliant and
non-compliant examples for every control it implements (see ``demo/seed_<service>.py``)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

Seeder = Callable[["SeedContext"], None]


@dataclass(frozen=True)
class SeedContext:
    """What a seeder gets: a boto3 session aimed at the local server, and the demo regions.

    Seeders write through plain boto3 (the demo account is fake); the scan itself still goes
    through controlmap's read-only client factory.
    """

    session: boto3.Session
    regions: Sequence[str]
    account_id: str

    def client(self, service: str, region: str | None = None) -> Any:
        return self.session.client(service, region_name=region or self.regions[0])  # type: ignore[call-overload]


_SEEDERS: dict[str, Seeder] = {}
# Client hooks (botocore-level fakes for APIs moto lacks) that seeders register for the demo scan.
_CLIENT_HOOKS: list[Callable[[Any], None]] = []


def demo_client_hook(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """Register a client hook the demo scan installs (see ``ClientFactory.client_hooks``)."""
    if hook not in _CLIENT_HOOKS:
        _CLIENT_HOOKS.append(hook)
    return hook


def demo_client_hooks() -> list[Callable[[Any], None]]:
    seeders()  # importing the seed modules registers their hooks
    return list(_CLIENT_HOOKS)


def seeder(service: str) -> Callable[[Seeder], Seeder]:
    def decorate(func: Seeder) -> Seeder:
        _SEEDERS[service] = func
        return func

    return decorate


def seeders() -> dict[str, Seeder]:
    import controlmap.demo as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("seed_"):
            importlib.import_module(f"controlmap.demo.{module.name}")
    return dict(sorted(_SEEDERS.items()))


def seed_demo_account(session: boto3.Session, regions: Sequence[str], account_id: str) -> list[str]:
    """Run every seeder; returns the services seeded."""
    ctx = SeedContext(session=session, regions=regions, account_id=account_id)
    done = []
    for service, func in seeders().items():
        func(ctx)
        done.append(service)
    return done
