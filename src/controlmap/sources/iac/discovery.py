"""Find what to scan: CloudFormation/SAM templates, Terraform root modules and plan files.

Files are recognised by content, not by name: a YAML or JSON file is a template when it has
``AWSTemplateFormatVersion`` or ``Resources`` with ``AWS::`` types, a plan when it has
``format_version`` and ``planned_values``. A directory holding ``.tf`` or ``.tf.json`` files is a
Terraform root unless another scanned directory uses it as a local module. Tool caches and build output
(``.terraform/``, ``node_modules/``, ``.git``, virtualenvs, ``cdk.out`` assets, ``.aws-sam``) are
skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from controlmap.sources.iac.common import IacProblem, utf16_encoding


class Framework(str, Enum):
    CLOUDFORMATION = "cloudformation"
    TERRAFORM = "terraform"
    TERRAFORM_PLAN = "terraform-plan"


@dataclass(frozen=True)
class Unit:
    framework: Framework
    path: Path  # a file (template, plan) or a directory (Terraform root)
    display: str


SKIP_DIRS = frozenset(
    {
        ".terraform",
        "node_modules",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".aws-sam",
        ".serverless",
        ".terragrunt-cache",
        "site-packages",
    }
)
TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template", ".cfn", ".txt")
SNIFF_BYTES = 256 * 1024

# Top-level keys only: a YAML file that quotes a template inside a block scalar (documentation,
# the controls catalog's remediation snippets) is not a template.
_CFN_YAML_VERSION = re.compile(r"^['\"]?AWSTemplateFormatVersion['\"]?\s*:", re.M)
_CFN_YAML_RESOURCES = re.compile(r"^['\"]?Resources['\"]?\s*:", re.M)
_CFN_YAML_TYPE = re.compile(r"^\s+['\"]?Type['\"]?\s*:\s*['\"]?(AWS|Custom)::[A-Za-z0-9]+", re.M)
_CFN_JSON_VERSION = re.compile(r"\"AWSTemplateFormatVersion\"\s*:")
_CFN_JSON_RESOURCES = re.compile(r"\"Resources\"\s*:\s*\{")
_CFN_JSON_TYPE = re.compile(r"\"Type\"\s*:\s*\"(AWS|Custom)::[A-Za-z0-9]+")
_PLAN = re.compile(r"\"planned_values\"\s*:")
_MODULE_SOURCE = re.compile(r"source\s*=\s*\"(\.{1,2}/[^\"]*)\"")
_JSON_MODULE_SOURCE = re.compile(r"\"source\"\s*:\s*\"(\.{1,2}/[^\"]*)\"")


def display_path(path: Path) -> str:
    """The path as users read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def _skip_dir(name: str, parent: Path) -> bool:
    if name in SKIP_DIRS:
        return True
    if parent.name == "cdk.out" and name.startswith("asset."):
        return True
    return (parent / name / "pyvenv.cfg").exists()


def _io_problem(path: Path, exc: OSError) -> IacProblem:
    return IacProblem(display_path(path), f"cannot read: {exc.strerror or exc}; not scanned", code="io")


def sniff(path: Path, *, strict: bool = False) -> Framework | None:
    """What a YAML/JSON file is, from its first bytes; None for anything else.

    A file that cannot be read is None, or with ``strict`` raises the OSError.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        if strict:
            raise
        return None
    wide = utf16_encoding(head)
    if wide is not None:
        # Recognised, so that the reader reports the encoding instead of the file being skipped.
        text = head.decode(wide.lower().replace("-", ""), errors="replace")
    elif b"\x00" in head[:8192]:
        return None
    else:
        text = head.decode("utf-8", errors="replace")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        if _PLAN.search(text) and "format_version" in text:
            return Framework.TERRAFORM_PLAN
        if _CFN_JSON_VERSION.search(text) or (
            _CFN_JSON_RESOURCES.search(text) and _CFN_JSON_TYPE.search(text)
        ):
            return Framework.CLOUDFORMATION
        return None
    if _CFN_YAML_VERSION.search(text) or (_CFN_YAML_RESOURCES.search(text) and _CFN_YAML_TYPE.search(text)):
        return Framework.CLOUDFORMATION
    return None


def discover(paths: list[Path], framework: Framework | None = None) -> tuple[list[Unit], list[IacProblem]]:
    units: list[Unit] = []
    problems: list[IacProblem] = []
    tf_dirs: list[Path] = []
    seen: set[Path] = set()

    def add(unit: Unit) -> None:
        key = unit.path.resolve()
        if key not in seen and (framework is None or unit.framework is framework):
            seen.add(key)
            units.append(unit)

    for path in paths:
        if not path.exists():
            what = (
                "a symbolic link that leads nowhere (a link loop, or its target is missing)"
                if path.is_symlink()
                else "no such file or directory"
            )
            problems.append(IacProblem(str(path), what, code="usage"))
            continue
        if path.is_file():
            _explicit_file(path, framework, add, tf_dirs, problems)
            continue
        if not path.is_dir():
            problems.append(IacProblem(str(path), "not a regular file or directory", code="usage"))
            continue

        def walk_error(exc: OSError, path: Path = path) -> None:
            where = Path(exc.filename) if exc.filename else path
            problems.append(_io_problem(where, exc))

        for root, dirs, files in os.walk(path, onerror=walk_error):
            root_path = Path(root)
            dirs[:] = sorted(d for d in dirs if not _skip_dir(d, root_path))
            if any(f.endswith((".tf", ".tf.json")) for f in files):
                tf_dirs.append(root_path)
            for name in sorted(files):
                if not name.lower().endswith(TEMPLATE_SUFFIXES):
                    continue
                file_path = root_path / name
                if not file_path.is_file():
                    continue  # sockets, FIFOs, broken links: reading them could block or fail
                try:
                    kind = sniff(file_path, strict=True)
                except OSError as exc:
                    # Whether it is a template cannot be told; saying nothing would pass it silently.
                    problems.append(_io_problem(file_path, exc))
                    continue
                if kind is not None:
                    add(Unit(kind, file_path, display_path(file_path)))
    for directory in _terraform_roots(tf_dirs):
        add(Unit(Framework.TERRAFORM, directory, display_path(directory)))
    return units, problems


def _explicit_file(
    path: Path,
    framework: Framework | None,
    add: Callable[[Unit], None],
    tf_dirs: list[Path],
    problems: list[IacProblem],
) -> None:
    if path.name.endswith((".tf", ".tf.json")) or (
        path.name.endswith((".tfvars", ".tfvars.json")) and _has_terraform(path.parent)
    ):
        # A changed .tf or .tfvars file (a pre-commit hook passes them) is its root module's change.
        tf_dirs.append(path.parent)
        return
    kind = sniff(path)
    if kind is None:
        if framework is Framework.TERRAFORM_PLAN or (
            framework is None and path.suffix == ".json" and _is_plan_name(path)
        ):
            kind = Framework.TERRAFORM_PLAN
        elif framework is not None or _unreadable(path):
            # Named explicitly and not readable as text: the reader says what is wrong with it.
            kind = framework or Framework.CLOUDFORMATION
        else:
            return  # a YAML/JSON file that is not a template (a pre-commit hook passes every one)
    add(Unit(kind, path, display_path(path)))


def _has_terraform(directory: Path) -> bool:
    return any(directory.glob("*.tf")) or any(directory.glob("*.tf.json"))


def _unreadable(path: Path) -> bool:
    """Binary, not UTF-8, or too large to sniff: worth an error when the user named the file."""
    try:
        if path.stat().st_size > 20 * 1024 * 1024:
            return True
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return True
    if b"\x00" in head[:8192]:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a multi-byte character cut by the sniff window is fine
    return False


def _is_plan_name(path: Path) -> bool:
    return "plan" in path.name.lower() or "tfplan" in path.name.lower()


def _terraform_roots(dirs: list[Path]) -> list[Path]:
    """Directories with .tf or .tf.json files that no other scanned directory calls as a local module."""
    resolved = {d.resolve(): d for d in dirs}
    called: set[Path] = set()
    for directory in resolved:
        for tf in [*directory.glob("*.tf"), *directory.glob("*.tf.json")]:
            try:
                text = tf.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            pattern = _JSON_MODULE_SOURCE if tf.name.endswith(".json") else _MODULE_SOURCE
            for source in pattern.findall(text):
                target = (directory / source).resolve()
                if target != directory:  # a module calling itself is no caller: read it as a root
                    called.add(target)
    return [resolved[d] for d in sorted(resolved) if d not in called]
