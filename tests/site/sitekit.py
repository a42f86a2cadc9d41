"""Test data for the site tests: a small catalog with the real schema, fake checks and scans.

tests/site has no __init__.py on purpose: a package named ``site`` would clash with the
standard library module, so pytest puts this directory on sys.path and tests import ``sitekit``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from controlmap.catalog.catalog import Catalog, ResourceTypesFile, load_service_file
from controlmap.catalog.models import Framework, Severity
from controlmap.checks.registry import CheckSpec, Outcome, Status, passed
from controlmap.findings.model import Finding, ScanResult
from controlmap.resources.base import Resource
from controlmap.settings import PlanSettings
from controlmap.site.generator import SiteInput
from controlmap.yamlfile import load_model

FIXTURES = Path(__file__).parent / "fixtures"
XSS = "<img src=x onerror=window.__pwned=1>"
# Breaks out of a quoted attribute, then out of any element, into a script.
XSS_SCRIPT = '"><script>window.__pwned=1</script><!--'
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def load_fixture_catalog(with_custom: bool = True) -> Catalog:
    """The loader's own steps, pointed at tests/site/fixtures instead of the built-in data."""
    catalog = Catalog()
    for rtype in load_model(FIXTURES / "resource-types.yaml", ResourceTypesFile).resource_types:
        catalog.resource_types[rtype.id] = rtype
    for path in sorted((FIXTURES / "frameworks").glob("*.yaml")):
        framework = load_model(path, Framework)
        catalog.frameworks[framework.key] = framework
    sources = [(p, False) for p in sorted((FIXTURES / "controls").glob("*.yaml"))]
    if with_custom:
        sources.append((FIXTURES / "custom" / "org.yaml", True))
    from controlmap.catalog.catalog import LoadedControl

    for path, custom in sources:
        service_file, lines = load_service_file(path)
        catalog.services.setdefault(service_file.service, service_file.name)
        for control in service_file.controls:
            if custom:
                control = control.model_copy(update={"custom": True})
            catalog.controls[control.id] = control
            catalog.origins[control.id] = LoadedControl(control, str(path), lines.get(control.id))
    return catalog


def _noop(resource: Resource, ctx: object) -> Outcome:
    return passed("fixture")


def fake_checks() -> dict[str, CheckSpec]:
    titles = {
        "fixture_bucket_public_access_blocked": "Bucket blocks public access",
        "fixture_bucket_versioning": "Bucket versioning is enabled",
        "fixture_sg_no_open_admin_ports": "No admin port open to the internet",
    }
    return {cid: CheckSpec(cid, "AWS::S3::Bucket", Resource, _noop, title) for cid, title in titles.items()}


def finding(**fields: object) -> Finding:
    base: dict[str, object] = {
        "control_id": "S3-01",
        "check_id": "fixture_bucket_public_access_blocked",
        "status": Status.FAIL,
        "severity": Severity.CRITICAL,
        "service": "s3",
        "title": "Block Public Access",
        "resource_id": "arn:aws:s3:::bucket",
        "resource_type": "AWS::S3::Bucket",
        "resource_name": "bucket",
        "account_id": "111122223333",
        "region": "eu-west-1",
        "reason": "BlockPublicAcls is false",
        "due_date": date(2026, 11, 20),
    }
    base.update(fields)
    return Finding.model_validate(base)


def fixture_scans() -> list[ScanResult]:
    old = ScanResult(
        kind="aws",
        started_at=NOW - timedelta(days=7),
        finished_at=NOW - timedelta(days=7) + timedelta(minutes=3),
        accounts=["111122223333"],
        services=["s3"],
        findings=[
            finding(resource_name="logs", resource_id="arn:aws:s3:::logs", status=Status.FAIL),
            finding(resource_name="data", resource_id="arn:aws:s3:::data", status=Status.FAIL),
        ],
    )
    latest = ScanResult(
        kind="aws",
        started_at=NOW - timedelta(hours=1),
        finished_at=NOW,
        accounts=["111122223333"],
        regions=["eu-west-1"],
        services=["s3", "ec2"],
        findings=[
            finding(resource_name="logs", resource_id="arn:aws:s3:::logs", status=Status.PASS),
            finding(
                resource_name=XSS,
                resource_id=f"arn:aws:s3:::{XSS}",
                reason=f"bucket tag Name={XSS} is public (owner {XSS_SCRIPT})",
                evidence={"tags": {"Name": XSS, "owner": XSS_SCRIPT}},
            ),
            finding(
                control_id="S3-05",
                check_id="fixture_bucket_versioning",
                severity=Severity.HIGH,
                title="Versioning & MFA Delete",
                resource_name="data",
                resource_id="arn:aws:s3:::data",
                reason="versioning is Suspended",
                due_date=date(2027, 2, 1),
            ),
            finding(
                control_id="EC2-01",
                check_id="fixture_sg_no_open_admin_ports",
                service="ec2",
                title="Security Groups",
                resource_type="AWS::EC2::SecurityGroup",
                resource_id="sg-0abc",
                resource_name="sg-0abc",
                status=Status.ERROR,
                reason="ec2:DescribeSecurityGroups failed with AccessDenied",
                error_code="AccessDenied",
            ),
        ],
    )
    iac = ScanResult(kind="iac", started_at=NOW, findings=[finding(account_id=None, region=None)])
    return [latest, old, iac]


def fixture_plan() -> PlanSettings:
    return load_model(FIXTURES / "plan.yaml", PlanSettings)


def fixture_input(scans: bool = True) -> SiteInput:
    return SiteInput(
        catalog=load_fixture_catalog(),
        plan=fixture_plan(),
        checks=fake_checks(),
        scans=fixture_scans() if scans else [],
        now=NOW,
    )
