"""Entry point of the ``controlmap`` command.

Each command group lives in its own module of this package and exposes ``register(app)``;
modules are discovered, so a new command group needs no edit here. Exit codes: 0 success,
1 findings at or above ``--fail-on`` (or lint errors), 2 usage or input errors.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

import controlmap
from controlmap.cli import common

app = typer.Typer(
    name="controlmap",
    help="Turn the AWS security standard into checks: scan live accounts, IaC and AWS Config data.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"controlmap {controlmap.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """controlmap: the AWS security controls standard, as data and as checks."""


def _register_commands() -> None:
    import controlmap.cli as package

    modules = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name not in ("app", "common")]
    loaded = [importlib.import_module(f"controlmap.cli.{name}") for name in modules]
    for module in sorted(loaded, key=lambda m: getattr(m, "ORDER", 100)):
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    try:
        app()
    except common.UserError as exc:
        common.print_error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        common.print_error("interrupted")
        sys.exit(130)
