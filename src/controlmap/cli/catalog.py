"""``controlmap catalog``: browse, check and extend the controls catalog."""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from ruamel.yaml import YAML

from controlmap.catalog.catalog import Catalog, load_catalog, path_problem
from controlmap.catalog.control_markdown import control_markdown
from controlmap.catalog.corrections import render_corrections
from controlmap.catalog.correspondence import builtin_correspondence
from controlmap.catalog.lint import ERROR, has_errors, iso_2013_advice, lint, soc2_category_advice, summarise
from controlmap.catalog.models import (
    ISO27001_2013,
    ISO27001_2022,
    SOC2_2017,
    Automation,
    Control,
    Framework,
    Severity,
)
from controlmap.catalog.plan import build_plan, plan_problems, settings_catalog_problems
from controlmap.catalog.seed import SeedError, parse_seed, write_seed_catalog
from controlmap.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    OutputFormat,
    console,
    emit,
    fail_on_file_error,
    print_error,
    print_file_problem,
    print_warning,
    render_rows,
)
from controlmap.settings import Settings, load_settings
from controlmap.yamlfile import FileError, FileProblem

ORDER = 10

catalog_app = typer.Typer(
    name="catalog",
    help="Browse, lint and extend the controls catalog (controls, frameworks, remediation plan).",
    no_args_is_help=True,
)

CatalogDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--catalog",
        metavar="PATH",
        help="Extra catalog file or directory of YAML control files (repeatable); "
        "a control with a built-in ID replaces it.",
        show_default=False,
    ),
]
SettingsFile = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        metavar="FILE",
        help="Settings file (default: $CONTROLMAP_SETTINGS or ./controlmap.yaml).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]

FRAMEWORK_ALIASES = {
    "iso27001": ISO27001_2022,
    "iso": ISO27001_2022,
    "iso27001:2022": ISO27001_2022,
    "soc2": SOC2_2017,
    "soc2:2017": SOC2_2017,
}


@dataclass
class _Options:
    catalog_dirs: list[Path] = field(default_factory=list)
    settings_file: Path | None = None


# Options given before the sub-command (``catalog --catalog DIR list``). They live for one
# invocation only: the group callback sets them and resets them when its context closes, so
# nothing leaks into the next command run in the same process (tests, other command groups).
_group = _Options()


def _group_options() -> _Options:
    return _group


@catalog_app.callback()
def _catalog_group(
    ctx: typer.Context, catalog_dirs: CatalogDirs = None, settings_file: SettingsFile = None
) -> None:
    """Browse, lint and extend the controls catalog."""
    _group.catalog_dirs = list(catalog_dirs or [])
    _group.settings_file = settings_file
    ctx.call_on_close(_reset_group_options)


def _reset_group_options() -> None:
    _group.catalog_dirs = []
    _group.settings_file = None


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")


# ---- loading ------------------------------------------------------------------------------------


def load_cli_settings(settings_file: Path | None) -> Settings:
    try:
        return load_settings(settings_file or _group_options().settings_file)
    except FileError as exc:
        fail_on_file_error(exc)
        raise  # unreachable: fail_on_file_error exits


def custom_catalog_paths(settings: Settings, catalog_dirs: Sequence[Path] | None) -> list[Path]:
    """Settings ``catalog:`` entries (relative to the settings file) then ``--catalog`` options."""
    base = Path(settings.source_path).parent if settings.source_path else Path.cwd()
    paths = [p if p.is_absolute() else base / p for p in (Path(x) for x in settings.catalog)]
    return paths + list(_group_options().catalog_dirs) + list(catalog_dirs or [])


def load_cli_catalog(
    catalog_dirs: Sequence[Path] | None, settings_file: Path | None
) -> tuple[Catalog, Settings]:
    """The catalog the user asked for (built-in + custom files); bad files exit 2 with file and line."""
    settings = load_cli_settings(settings_file)
    if problems := settings_catalog_problems(settings, custom_catalog_paths(settings, [])):
        fail_on_file_error(FileError(problems))
    try:
        catalog = load_catalog(custom_catalog_paths(settings, catalog_dirs))
    except FileError as exc:
        fail_on_file_error(exc)
        raise
    for problem in catalog.problems:  # warnings from linting the custom files
        print_file_problem(problem)
    if problems := plan_problems(settings, catalog.services):
        fail_on_file_error(FileError(problems))
    return catalog, settings


def _usage_error(message: str) -> typer.Exit:
    print_error(message)
    return typer.Exit(EXIT_USAGE)


# ---- list ---------------------------------------------------------------------------------------


def control_row(control: Control) -> dict[str, Any]:
    return {
        "id": control.id,
        "severity": control.severity.value,
        "service": control.service,
        "title": control.title,
        "iso27001": control.iso27001,
        "soc2": control.soc2,
        "resource_types": list(control.resource_types),
        "scope": control.scope.value,
        "automation": control.automation.value,
        "automated": control.is_automated,
        "checks": list(control.checks),
        "custom": control.custom,
    }


def _framework_filter(catalog: Catalog, ref: str) -> str:
    """Validate ``iso27001:A.8.24`` / ``soc2:CC6.7`` and return it normalised.

    The edition may be given as the catalog files write it (``iso27001:2022:A.8.24``).
    """
    key, sep, ident = ref.partition(":")
    edition, colon, rest = ident.partition(":")
    if colon and edition.strip().isdigit():
        key, ident = f"{key.strip()}:{edition.strip()}", rest
        if key.lower() == ISO27001_2013:
            hint = iso_2013_advice(ident.strip(), builtin_correspondence())
            raise _usage_error(f"--framework {ref!r}: the catalog cites ISO 27001:2022 only; {hint}")
    framework_key = FRAMEWORK_ALIASES.get(key.strip().lower())
    if not sep or framework_key is None or not ident.strip():
        raise _usage_error(
            f"--framework {ref!r}: use iso27001:A.8.24 or soc2:CC6.7 "
            "(with the edition: iso27001:2022:A.8.24, soc2:2017:CC6.7)"
        )
    written = ident.strip()
    ident = written.upper()
    framework = catalog.frameworks.get(framework_key)
    if framework is not None and ident not in framework.ids():
        if framework_key == ISO27001_2022:
            hint = iso_2013_advice(ident, builtin_correspondence())
            if builtin_correspondence().successors(ident) is None:
                hint = f"{written} is not an ISO/IEC 27001:2022 Annex A control"
        else:
            hint = soc2_category_advice(written) or f"{written} is not a SOC 2 Trust Services Criterion"
        raise _usage_error(f"--framework {ref!r}: {hint}")
    return f"{framework_key.split(':')[0]}:{ident}"


@catalog_app.command("list")
def list_controls(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", metavar="SERVICE", help="Service key, e.g. s3 (repeatable)."),
    ] = None,
    severity: Annotated[
        list[Severity] | None,
        typer.Option(
            "--severity",
            metavar="SEVERITY",
            help="critical, high, medium, low or informational (repeatable).",
            case_sensitive=False,
        ),
    ] = None,
    resource_type: Annotated[
        str | None,
        typer.Option(
            "--resource-type", "-t", metavar="TYPE", help="CloudFormation, Terraform or AWS Config type name."
        ),
    ] = None,
    framework: Annotated[
        str | None,
        typer.Option(
            "--framework",
            metavar="FRAMEWORK:ID",
            help="A framework requirement, e.g. iso27001:A.8.24 or soc2:CC6.7.",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """List controls, optionally filtered by service, severity, resource type or framework requirement."""
    catalog, _ = load_cli_catalog(catalog_dirs, settings_file)
    services = [s.lower() for s in service or []]
    unknown = [s for s in services if s not in {c.service.lower() for c in catalog.ordered()}]
    if unknown:
        known = ", ".join(sorted({c.service for c in catalog.ordered()}))
        raise _usage_error(f"unknown service {', '.join(unknown)} (known: {known})")
    if resource_type and catalog.resource_type(resource_type) is None:
        close = difflib.get_close_matches(
            resource_type, [n for r in catalog.resource_types.values() for n in r.names()], n=3
        )
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise _usage_error(f"unknown resource type {resource_type!r}{hint}")
    framework_ref = _framework_filter(catalog, framework) if framework else None
    controls = catalog.filter(
        services=services, severities=severity or [], resource_type=resource_type, framework_ref=framework_ref
    )
    rows = [control_row(c) for c in controls]
    if fmt is OutputFormat.TABLE:
        _print_control_table(controls)
        return
    columns = [
        "id",
        "severity",
        "service",
        "title",
        "iso27001",
        "soc2",
        "resource_types",
        "automation",
        "automated",
        "custom",
    ]
    emit(render_rows(rows, fmt, columns=columns, title="Controls"))


_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFORMATIONAL: "dim",
}


def _print_control_table(controls: Sequence[Control]) -> None:
    noun = "control" if len(controls) == 1 else "controls"
    table = Table(title=f"{len(controls)} {noun}", header_style="bold")
    # IDs are what people copy into other commands: never cut them; the title wraps instead.
    # The service is the ID's prefix (and --service filters by it), so it gets no column here.
    table.add_column("ID", no_wrap=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("ISO", no_wrap=True)
    table.add_column("SOC 2", no_wrap=True)
    table.add_column("Automated", no_wrap=True)
    for c in controls:
        table.add_row(
            escape(c.id) + ("\n[dim](custom)[/]" if c.custom else ""),
            Text(c.severity.label, style=_SEVERITY_STYLE[c.severity]),
            escape(c.title),
            escape("\n".join(c.iso27001)),
            escape("\n".join(c.soc2)),
            _automated_label(c, short=True),
        )
    console.print(table)


def _automated_label(control: Control, *, short: bool = False) -> str:
    if control.is_automated:
        return "yes"
    if control.automation is Automation.MANUAL:
        return "[dim]manual[/]" if short else "[dim]manual by design[/]"
    return "[dim]not yet[/]"


# ---- show ---------------------------------------------------------------------------------------


class ShowFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    MARKDOWN = "markdown"


@catalog_app.command("show")
def show(
    control_id: Annotated[str, typer.Argument(help="Control ID, e.g. S3-01.", metavar="ID")],
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", case_sensitive=False)] = ShowFormat.TABLE,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """Everything about one control: references, corrections, remediation, equivalents, checks."""
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    control = catalog.get(control_id)
    if control is None:
        close = difflib.get_close_matches(control_id.upper(), list(catalog.controls), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise _usage_error(f"no control {control_id!r} in the catalog{hint}")
    data = control.model_dump(mode="json")
    origin = catalog.origins.get(control.id)
    window = settings.resolved_plan().window(control.severity, control.service)
    data["plan_window"] = {"start_days": window.start_days, "end_days": window.end_days}
    if origin is not None:
        data["source"] = {"path": origin.path, "line": origin.line}
    if fmt is ShowFormat.MARKDOWN:
        emit(control_markdown(catalog, control, window, origin))
        return
    if fmt is not ShowFormat.TABLE:
        emit(_yaml_text(data) if fmt is ShowFormat.YAML else json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(_control_panel(catalog, control, f"{window.start_days}-{window.end_days} days", origin))


def _yaml_text(data: dict[str, Any]) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.representer.sort_base_mapping_type_on_output = False  # keep the schema's field order
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _titles(framework: Framework | None) -> dict[str, str]:
    return {r.id: r.title for r in framework.requirements} if framework else {}


def _type_names(catalog: Catalog, type_id: str) -> str:
    """'AWS::S3::Bucket (Terraform aws_s3_bucket +11 more, Config AWS::S3::Bucket)'."""
    rtype = catalog.resource_types.get(type_id)
    if rtype is None:
        return escape(type_id)
    names = []
    if rtype.terraform:
        more = f" +{len(rtype.terraform) - 1} more" if len(rtype.terraform) > 1 else ""
        names.append(f"Terraform {rtype.terraform[0]}{more}")
    if rtype.config:
        names.append(f"Config {rtype.config}")
    return escape(f"{type_id} ({', '.join(names)})" if names else type_id)


def _control_panel(catalog: Catalog, control: Control, window: str, origin: Any) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")  # a long path (Defined in) wraps instead of ending in "…"
    facts.add_row("Severity", Text(control.severity.label, style=_SEVERITY_STYLE[control.severity]))
    facts.add_row("Plan window", escape(window))
    facts.add_row("Service", escape(catalog.services.get(control.service, control.service)))
    facts.add_row("Scope", control.scope.value)
    types = [_type_names(catalog, t) for t in control.resource_types]
    facts.add_row("Resource types", "\n".join(types) or "-")
    facts.add_row("Automation", escape(control.automation.value))
    facts.add_row("Automated", _automated_label(control))
    facts.add_row("Checks", escape(", ".join(control.checks)) or "[dim]none[/]")
    if control.attestation:
        facts.add_row("Attestation", escape(control.attestation))
    if origin is not None:
        facts.add_row("Defined in", escape(f"{origin.path}:{origin.line}" if origin.line else origin.path))

    parts: list[Any] = [Text(control.description), Text(""), facts, Text("")]
    parts += [Text("Why", style="bold"), Text(control.rationale), Text("")]

    refs = Table(title="Framework references", title_justify="left", header_style="bold")
    refs.add_column("Framework", no_wrap=True)
    refs.add_column("ID", no_wrap=True)
    refs.add_column("Title")
    for key, idents in control.references.items():
        titles = _titles(catalog.frameworks.get(key))
        for ident in idents:
            refs.add_row(escape(key), escape(ident), escape(titles.get(ident, "?")))
    parts += [refs]
    published = control.as_published
    if published is not None:
        text = (
            f"severity {published.severity or '-'}; ISO {published.iso27001 or '-'}; "
            f"SOC 2 {published.soc2 or '-'}"
        )
        if published.summary_tier is not None:
            text += f"; summary table: {published.summary_tier}"
        elif not control.custom:
            text += "; in none of the seed's summary tables"
        parts += [Text(""), Text("As published in the seed", style="bold"), Text(text)]
    if control.corrections:
        parts += [Text(""), Text("Corrections", style="bold")]
        parts += [Text(f"- {line}") for line in control.corrections]
    remediation = control.remediation
    parts += [Text(""), Text("Remediation", style="bold"), Text(remediation.summary)]
    for step in remediation.console:
        parts.append(Text(f"- {step}"))
    for label, code, lexer in (
        ("AWS CLI", remediation.cli, "bash"),
        ("CloudFormation", remediation.cloudformation, "yaml"),
        ("Terraform", remediation.terraform, "hcl"),
    ):
        if code:
            parts += [
                Text(label, style="italic"),
                Syntax(code.rstrip(), lexer, theme="ansi_dark", word_wrap=True),
            ]
    eq = control.equivalents
    if eq.security_hub or eq.config_rules or eq.cis_aws_v3:
        parts += [Text(""), Text("Equivalents", style="bold")]
        if eq.security_hub:
            parts.append(Text(f"Security Hub CSPM: {', '.join(eq.security_hub)}"))
        if eq.config_rules:
            parts.append(Text(f"AWS Config rules: {', '.join(eq.config_rules)}"))
        if eq.cis_aws_v3:
            parts.append(Text(f"CIS AWS Foundations v3.0: {', '.join(eq.cis_aws_v3)}"))
    title = f"[bold]{escape(control.id)}[/] {escape(control.title)}" + (
        " [dim](custom)[/]" if control.custom else ""
    )
    return Panel(Group(*parts), title=title, title_align="left")


# ---- frameworks ---------------------------------------------------------------------------------


def framework_rows(catalog: Catalog, framework: Framework) -> list[dict[str, Any]]:
    covering: dict[str, list[str]] = {r.id: [] for r in framework.requirements}
    for control in catalog.ordered():
        for ident in control.references.get(framework.key, []):
            if ident in covering:
                covering[ident].append(control.id)
    return [
        {
            "id": r.id,
            "title": r.title,
            "group": r.group,
            "controls": covering[r.id],
            "covered": bool(covering[r.id]),
        }
        for r in framework.requirements
    ]


@catalog_app.command("frameworks")
def frameworks(
    name: Annotated[str, typer.Argument(help="iso27001 or soc2.", metavar="FRAMEWORK")],
    uncovered: Annotated[
        bool, typer.Option("--uncovered", help="Only requirements no control covers.")
    ] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """Each framework requirement with the controls that cover it, and the ones nothing covers."""
    catalog, _ = load_cli_catalog(catalog_dirs, settings_file)
    key = FRAMEWORK_ALIASES.get(name.strip().lower())
    framework = catalog.frameworks.get(key) if key else None
    if framework is None:
        raise _usage_error(f"unknown framework {name!r} (known: iso27001, soc2)")
    rows = framework_rows(catalog, framework)
    if uncovered:
        rows = [r for r in rows if not r["covered"]]
    if fmt is not OutputFormat.TABLE:
        emit(render_rows(rows, fmt, columns=["id", "title", "group", "controls"], title=framework.name))
        return
    table = Table(title=escape(framework.name), header_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column("Title", ratio=1, overflow="fold")
    table.add_column("Controls", ratio=1)
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            table.add_row("", f"[bold]{escape(group)}[/]", "")
        controls = escape(", ".join(row["controls"])) if row["controls"] else "[dim]not covered[/]"
        table.add_row(escape(row["id"]), escape(row["title"]), controls)
    console.print(table)
    covered = sum(1 for r in framework_rows(catalog, framework) if r["covered"])
    console.print(f"{covered} of {len(framework.requirements)} requirements covered by at least one control.")


# ---- plan ---------------------------------------------------------------------------------------


@catalog_app.command("plan")
def plan(
    fmt: FormatOpt = OutputFormat.TABLE,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """The prioritised remediation plan: controls by severity tier and service, with their windows."""
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    entries = build_plan(catalog, settings.resolved_plan())
    rows: list[dict[str, Any]] = [
        {
            "severity": e.severity.value,
            "service": e.service,
            "window": f"{e.window.start_days}-{e.window.end_days} days",
            "start_days": e.window.start_days,
            "end_days": e.window.end_days,
            "controls": [c.id for c in e.controls],
            "custom_controls": [c.id for c in e.controls if c.custom],
        }
        for e in entries
    ]
    if fmt is not OutputFormat.TABLE:
        emit(
            render_rows(
                rows,
                fmt,
                columns=[
                    "severity",
                    "service",
                    "window",
                    "start_days",
                    "end_days",
                    "controls",
                    "custom_controls",
                ],
            )
        )
        return
    table = Table(title="Remediation plan (days after a control is found failing)", header_style="bold")
    table.add_column("Tier", no_wrap=True)
    table.add_column("Service")
    table.add_column("Window", no_wrap=True)
    table.add_column("Controls", ratio=1)
    previous = None
    for e in entries:
        tier = (
            Text(e.severity.label, style=_SEVERITY_STYLE[e.severity]) if e.severity != previous else Text("")
        )
        previous = e.severity
        table.add_row(
            tier,
            escape(catalog.services.get(e.service, e.service)),
            f"{e.window.start_days}-{e.window.end_days} days",
            escape(", ".join(c.id + (" (custom)" if c.custom else "") for c in e.controls)),
        )
    console.print(table)
    source = (
        f"settings file {settings.source_path}"
        if settings.plan is not None
        else "built-in plan (catalog/data/plan.yaml)"
    )
    console.print(f"[dim]Windows from the {escape(source)}.[/]")


# ---- lint ---------------------------------------------------------------------------------------


class LintFormat(str, Enum):
    TEXT = "text"
    JSON = "json"


@catalog_app.command("lint")
def lint_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Control files or directories (default: the built-in catalog and custom files)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    fmt: Annotated[LintFormat, typer.Option("--format", "-f", case_sensitive=False)] = LintFormat.TEXT,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """Validate catalog files: schema, duplicate IDs, framework IDs, resource types, checks.

    ISO 27001:2013 IDs are reported with their 2022 successors.

    Exits 1 when there are errors; warnings (e.g. controls not yet automated) do not fail.
    """
    # A settings file with errors is one more file linted: its problems are reported like the
    # others (text or JSON, exit 1) and the catalog is linted without it. Only a missing settings
    # file is an input error (exit 2).
    settings_problems: list[FileProblem] = []
    try:
        settings = load_settings(settings_file or _group_options().settings_file)
    except FileError as exc:
        settings, settings_problems = Settings(), sorted(exc.problems, key=lambda p: p.line or 0)
    if paths:
        problems = lint(paths)
        custom = list(paths)
    else:
        problems = lint()
        custom = custom_catalog_paths(settings, catalog_dirs)
        if unreadable := settings_catalog_problems(settings, custom):  # named at the settings file's line
            problems += unreadable
            custom = [p for p in custom if path_problem(p) is None]
        if custom:
            problems += [p for p in lint(custom) if p.path not in {q.path for q in problems}]
    problems += settings_problems + _settings_plan_problems(settings, custom)
    shown = [p for p in problems if p.level == ERROR] if quiet else problems
    counts = summarise(problems)
    if fmt is LintFormat.JSON:
        emit(
            json.dumps(
                {
                    "problems": [
                        {
                            "path": p.path,
                            "line": p.line,
                            "level": p.level,
                            "code": p.code,
                            "message": p.message,
                        }
                        for p in shown
                    ],
                    **counts,
                },
                indent=2,
            )
        )
    else:
        for problem in shown:
            _print_problem(problem)
        style = "red" if counts["errors"] else "green"
        console.print(
            f"[{style}]{counts['errors']} error(s)[/], {counts['warnings']} warning(s)", highlight=False
        )
    if any(p.code == "io" and p.level == ERROR for p in problems):
        raise typer.Exit(EXIT_USAGE)  # a path that cannot be read is an input error, as for list
    if has_errors(problems):
        raise typer.Exit(EXIT_FINDINGS)


def _settings_plan_problems(settings: Settings, custom: Sequence[Path]) -> list[FileProblem]:
    """Plan problems of the settings file, against the services of the catalog being linted."""
    if settings.plan is None:
        return []
    try:
        services = load_catalog(custom).services
    except FileError:  # the custom files' own problems are reported by the lint
        services = load_catalog().services
    return plan_problems(settings, services)


def _print_problem(problem: FileProblem) -> None:
    where = f"{problem.path}:{problem.line}" if problem.line else problem.path
    style = "red" if problem.level == ERROR else "yellow"
    console.print(
        f"{escape(where)}: [{style}]{problem.level}[/]: {escape(problem.message)}",
        highlight=False,
        soft_wrap=True,
    )


# ---- corrections and seed import ----------------------------------------------------------------


@catalog_app.command("corrections")
def corrections(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    catalog_dirs: CatalogDirs = None,
    settings_file: SettingsFile = None,
) -> None:
    """Every correction the catalog makes to the seed (and the seed's summary-table faults), as Markdown."""
    catalog, settings = load_cli_catalog(catalog_dirs, settings_file)
    text = render_corrections(catalog, settings.resolved_plan(), builtin_correspondence())
    if output is None:
        emit(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _usage_error(f"{output}: cannot write: {exc.strerror or exc}") from None
    console.print(f"wrote {escape(str(output))}")


@catalog_app.command("import-seed")
def import_seed(
    seed: Annotated[Path, typer.Argument(help="The seed standard, Markdown.", metavar="SEED.md")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="A .yaml file, or a directory for one file per service.")
    ],
) -> None:
    """Turn the seed's Markdown tables into catalog YAML holding its references as published.

    Lint the result to see every citation the seed gets wrong:
    controlmap catalog import-seed aws-security-controls-map.md -o seed.yaml
    controlmap catalog lint seed.yaml
    """
    try:
        text = seed.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _usage_error(f"{seed}: cannot read: {exc}") from None
    try:
        parsed = parse_seed(text)
    except SeedError as exc:
        raise _usage_error(f"{seed}: {exc}") from None
    created = _first_missing_directory(output if output.suffix not in (".yaml", ".yml") else output.parent)
    try:
        written = write_seed_catalog(parsed, output)
    except OSError as exc:
        raise _usage_error(f"{output}: cannot write: {exc.strerror or exc}") from None
    missing = [c.id for c in parsed.controls if not c.summary_tiers]
    other_tier = [
        f"{c.id} ({c.severity}; summary table: {', '.join(c.summary_tiers)})"
        for c in parsed.controls
        if c.summary_tiers and c.summary_tiers != [c.severity]
    ]
    if created is not None:
        console.print(f"created directory {escape(str(created))}")
    console.print(f"{len(parsed.controls)} controls written to {escape(', '.join(str(p) for p in written))}")
    if missing:
        print_warning(f"not in any summary table of the seed: {', '.join(missing)}")
    if other_tier:
        print_warning(f"in a summary table other than its severity: {', '.join(other_tier)}")


def _first_missing_directory(directory: Path) -> Path | None:
    """The outermost directory of ``directory`` that does not exist yet (what mkdir -p will create)."""
    missing = None
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            break
        missing = candidate
    return missing
