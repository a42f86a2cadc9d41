"""Helpers for the catalog tests: run the CLI, write small custom catalog files."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from controlmap.cli.app import app


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["catalog", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


_CONTROL = """  - id: {ident}
    service: s3
    title: Bucket names follow the naming standard
    severity: low
    description: Every bucket name starts with the owning team's prefix.
    rationale: Unowned buckets are never cleaned up.
    scope: resource
    resource_types: [AWS::S3::Bucket]
    references:
      iso27001:2022: [{iso}]
    remediation:
      summary: Rename the bucket.
    automation: {automation}
{extra}"""


def control_yaml(
    ident: str = "ORG-S3-10",
    iso: str = "A.5.9",
    automation: str = "manual",
    extra: str = "    attestation: The platform team confirms each bucket has an owner.\n",
) -> str:
    return _CONTROL.format(ident=ident, iso=iso, automation=automation, extra=extra)


def catalog_file(path: Path, *controls: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("service: s3\nname: Amazon S3\ncontrols:\n" + "".join(controls), encoding="utf-8")
    return path
