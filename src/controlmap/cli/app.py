"""Entry point of the ``controlmap`` command.

Command groups live in their own modules of this package and expose ``register(app)``. They are
imported only when their command runs (``COMMANDS`` below), so ``controlmap scan iac`` never
pays for SQLAlchemy and Alembic, nor ``controlmap catalog list`` for boto3: start-up time is
part of the user experience in pre-commit hooks and CI. A new command module must be listed in
``COMMANDS`` (a test checks that none is forgotten).

Exit codes: 0 success, 1 findings at or above ``--fail-on`` (or lint errors), 2 usage or input
errors.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

import controlmap
from controlmap.cli import common

# command name -> modules whose register() (or import) defines it, in the order help lists them
COMMANDS: dict[str, tuple[str, ...]] = {
    "demo": ("controlmap.cli.demo",),
    "scan": ("controlmap.cli.scan", "controlmap.cli.scan_iac", "controlmap.cli.scan_config"),
    "catalog": ("controlmap.cli.catalog",),
    "scans": ("controlmap.cli.history",),
    "diff": ("controlmap.cli.history",),
    "findings": ("controlmap.cli.history",),
    "report": ("controlmap.cli.report",),
    "exceptions": ("controlmap.cli.exceptions",),
    "site": ("controlmap.cli.site",),
}


class LazyGroup(TyperGroup):
    """The root group: resolves a command by importing its module on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        modules = COMMANDS.get(cmd_name)
        if modules is None:
            return super().get_command(ctx, cmd_name)
        holder = typer.Typer()
        for name in modules:
            module = importlib.import_module(name)
            register = getattr(module, "register", None)
            if register is not None:
                register(holder)
        return typer.main.get_group(holder).commands.get(cmd_name)


app = typer.Typer(
    name="controlmap",
    cls=LazyGroup,
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


def main() -> None:
    try:
        app()
    except common.UserError as exc:
        common.print_error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        common.print_error("interrupted")
        sys.exit(130)
