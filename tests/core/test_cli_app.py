"""The root command: every command module is reachable, and commands load only what they need."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from typer.testing import CliRunner

import controlmap.cli as cli_package
from controlmap.cli.app import COMMANDS, app

HELPERS = {"app", "common", "iac_console"}  # modules that define no command


def test_every_command_module_is_listed() -> None:
    listed = {module.rsplit(".", 1)[-1] for modules in COMMANDS.values() for module in modules}
    found = {m.name for m in pkgutil.iter_modules(cli_package.__path__)} - HELPERS
    assert found <= listed, f"add to cli/app.py COMMANDS: {sorted(found - listed)}"


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["nosuchcommand"])
    assert result.exit_code == 2


def test_catalog_commands_do_not_import_the_store_or_boto3() -> None:
    code = (
        "import sys\n"
        "from controlmap.cli.app import app\n"
        "try:\n"
        "    app(['catalog', 'list', '--format', 'json'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'alembic', 'boto3') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
