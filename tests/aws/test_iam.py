"""IAM collection and checks through the local moto server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.catalog.catalog import load_catalog
from controlmap.checks.registry import Status
from controlmap.demo.fakes import FakeAccessAnalyzer
from controlmap.demo.server import LocalAws
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.iam import IamGroup, IamManagedPolicy, IamRole, IamUser
from controlmap.settings import Settings
from controlmap.sources.aws.scanner import AwsScanOptions, run_aws_scan


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


TRUST = _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})


@pytest.fixture(scope="module")
def account(moto_server: LocalAws) -> Iterator[boto3.Session]:
    """Seeded once for the tests of this module that only read it (they run first)."""
    moto_server.reset()
    aws_session = boto3.Session(region_name="us-east-1")
    iam = aws_session.client("iam")
    iam.create_user(UserName="admin-virtual")
    iam.create_login_profile(UserName="admin-virtual", Password="x-Not-A-Real-Passw0rd!")
    admin = iam.create_policy(
        PolicyName="all", PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    iam.attach_user_policy(UserName="admin-virtual", PolicyArn=admin["Policy"]["Arn"])
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="admin-virtual")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="admin-virtual",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_user(UserName="console-no-mfa")
    iam.create_login_profile(UserName="console-no-mfa", Password="x-Not-A-Real-Passw0rd!")
    iam.create_group(GroupName="ops")
    iam.add_user_to_group(GroupName="ops", UserName="console-no-mfa")
    iam.put_group_policy(
        GroupName="ops",
        PolicyName="not-iam",
        PolicyDocument=_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
    )
    iam.create_user(UserName="api-only")
    iam.create_access_key(UserName="api-only")
    iam.create_policy(
        PolicyName="wild", PolicyDocument=_doc({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})
    )
    iam.create_policy(
        PolicyName="tidy", PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    iam.put_role_policy(
        RoleName="app",
        PolicyName="read",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}),
    )
    iam.create_role(RoleName="breakglass", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="breakglass", PolicyArn=admin["Policy"]["Arn"])
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireSymbols=True)
    yield aws_session
    moto_server.reset()


IAM_CHECKS = [
    "iam_user_console_mfa_enabled",
    "iam_user_admin_hardware_mfa",
    "iam_user_no_admin_access",
    "iam_group_no_admin_access",
    "iam_role_no_admin_access",
    "iam_policy_no_admin_statements",
    "iam_policy_no_service_wildcards",
    "iam_user_no_active_access_keys",
    "iam_user_access_keys_rotated",
    "iam_password_policy_strong",
    "iam_root_mfa_enabled",
    "iam_root_no_access_keys",
]


def test_iam_principals_policies_and_credentials(account: boto3.Session) -> None:
    scan = live_scan(IAM_CHECKS)
    assert status(scan, "iam_user_console_mfa_enabled", "console-no-mfa") is Status.FAIL
    assert status(scan, "iam_user_console_mfa_enabled", "admin-virtual") is Status.PASS
    assert status(scan, "iam_user_console_mfa_enabled", "api-only") is Status.NOT_APPLICABLE
    assert status(scan, "iam_user_admin_hardware_mfa", "admin-virtual") is Status.FAIL
    assert "virtual" in reason(scan, "iam_user_admin_hardware_mfa", "admin-virtual")
    lenient = Settings.model_validate({"iam": {"admin_hardware_mfa_required": False}})
    assert status(scan, "iam_user_admin_hardware_mfa", "admin-virtual", lenient) is Status.PASS

    assert status(scan, "iam_user_no_admin_access", "admin-virtual") is Status.FAIL
    # NotAction on * through a group is admin-equivalent and is named with its group.
    assert status(scan, "iam_user_no_admin_access", "console-no-mfa") is Status.FAIL
    assert "via group ops" in reason(scan, "iam_user_no_admin_access", "console-no-mfa")
    assert status(scan, "iam_user_no_admin_access", "api-only") is Status.PASS
    assert status(scan, "iam_group_no_admin_access", "ops") is Status.FAIL
    assert status(scan, "iam_role_no_admin_access", "breakglass") is Status.FAIL
    assert status(scan, "iam_role_no_admin_access", "app") is Status.PASS
    assert status(scan, "iam_policy_no_admin_statements", "all") is Status.FAIL
    assert status(scan, "iam_policy_no_service_wildcards", "wild") is Status.FAIL
    assert status(scan, "iam_policy_no_service_wildcards", "tidy") is Status.PASS

    assert status(scan, "iam_user_no_active_access_keys", "api-only") is Status.FAIL
    assert status(scan, "iam_user_access_keys_rotated", "api-only") is Status.PASS
    later = Settings.model_validate({"iam": {"access_key_max_age_days": 0}})
    from controlmap.checks.registry import CheckContext, registry

    user = next(u for u in scan.inventory.of_type(IamUser) if u.name == "api-only")
    ctx = CheckContext(scan.inventory, later, now=datetime.now(UTC) + timedelta(days=91))
    assert registry()["iam_user_access_keys_rotated"].func(user, ctx).status is Status.FAIL

    policy = reason(scan, "iam_password_policy_strong", ACCOUNT)
    assert "MinimumPasswordLength is 8 (needs >= 14)" in policy and "RequireSymbols" not in policy
    assert status(scan, "iam_root_mfa_enabled", ACCOUNT) is Status.FAIL
    assert status(scan, "iam_root_no_access_keys", ACCOUNT) is Status.PASS

    groups = {g.name: g for g in scan.inventory.of_type(IamGroup)}
    assert groups["ops"].members == ["console-no-mfa"]
    assert {p.name for p in scan.inventory.of_type(IamManagedPolicy)} == {"all", "wild", "tidy"}
    assert {r.name for r in scan.inventory.of_type(IamRole)} == {"app", "breakglass"}


def test_global_service_read_once_across_regions(account: boto3.Session) -> None:
    scan = live_scan(
        ["iam_user_no_admin_access", "iam_access_analyzer_enabled"], regions=["us-east-1", "eu-west-1"]
    )
    calls = scan.factory.counter.snapshot()
    assert calls["iam:GetAccountAuthorizationDetails"] == 1
    assert calls["access-analyzer:ListAnalyzers"] == 2  # Access Analyzer is regional
    assert len([u for u in scan.inventory.of_type(IamUser) if u.name == "api-only"]) == 1
    assert all(u.region is None for u in scan.inventory.of_type(IamUser))


def test_password_policy_absent_and_denied(aws_session: boto3.Session) -> None:
    scan = live_scan(["iam_password_policy_strong"])
    assert "no IAM password policy" in reason(scan, "iam_password_policy_strong", ACCOUNT)
    denied = live_scan(["iam_password_policy_strong"], hooks=[deny("iam", "GetAccountPasswordPolicy")])
    found = outcomes(denied, "iam_password_policy_strong")[ACCOUNT][0]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"


def test_access_analyzer_per_region_with_fake(aws_session: boto3.Session) -> None:
    fake = FakeAccessAnalyzer(ACCOUNT)
    fake.add("us-east-1", "account-analyzer")
    fake.add("eu-west-1", "unused", analyzer_type="ACCOUNT_UNUSED_ACCESS")
    fake.denied_regions.add("ap-southeast-2")
    controls = [c for c in load_catalog().ordered() if "iam_access_analyzer_enabled" in c.checks]
    scan = run_aws_scan(
        AwsScanOptions(regions=["us-east-1", "eu-west-1", "ap-southeast-2"], client_hooks=[fake.install]),
        controls,
        Settings(),
    )
    regions = {r.name: r for r in scan.inventory.of_type(AwsRegion)}
    assert regions["us-east-1"].access_analyzer is not None
    assert regions["us-east-1"].access_analyzer.analyzer_names == ["account-analyzer"]
    found = outcomes(scan, "iam_access_analyzer_enabled")
    assert found["us-east-1"][0].status is Status.PASS
    assert found["eu-west-1"][0].status is Status.FAIL  # an unused-access analyzer does not count
    assert found["ap-southeast-2"][0].status is Status.ERROR
    assert found["ap-southeast-2"][0].error_code == "AccessDeniedException"


def test_root_facts_come_from_the_account(aws_session: boto3.Session) -> None:
    scan = live_scan(["iam_root_mfa_enabled"])
    root = scan.inventory.of_type(AwsAccount)[0].root
    assert root is not None and root.mfa_active is False and root.access_keys_present is False


def _root_row(**fields: str) -> Any:
    """A client hook adding a <root_account> row (moto's report has none) with these values."""

    def install(client: Any) -> None:
        if client.meta.service_model.service_name != "iam":
            return

        def add_root(parsed: dict[str, Any], **_: Any) -> None:
            header, _sep, rest = parsed["Content"].decode().partition("\n")
            columns = header.split(",")
            row = dict.fromkeys(columns, "N/A") | {
                "user": "<root_account>",
                "password_enabled": "not_supported",
            }
            row |= fields
            parsed["Content"] = f"{header}\n{','.join(row[c] for c in columns)}\n{rest}".encode()

        client.meta.events.register("after-call.iam.GetCredentialReport", add_root)

    return install


@pytest.fixture
def managed_policies(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    """A clean account whose IAM knows AWS's managed policies (AdministratorAccess & co.)."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # read when moto's IAM starts
    aws.reset()
    return boto3.Session(region_name="us-east-1")


def test_unreadable_aws_managed_policy_is_an_error_everywhere_it_matters(
    managed_policies: boto3.Session,
) -> None:
    """GetPolicy denied for AdministratorAccess: the user is not silently 'no administrator'."""
    iam = managed_policies.client("iam")
    iam.create_user(UserName="boss")
    iam.attach_user_policy(UserName="boss", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    checks = ["iam_user_no_admin_access", "iam_user_admin_hardware_mfa"]
    scan = live_scan(checks, hooks=[deny("iam", "GetPolicy")])
    for check_id in checks:
        [found] = outcomes(scan, check_id)["boss"]
        assert found.status is Status.ERROR and found.error_code == "AccessDenied", (check_id, found)
        assert "AdministratorAccess" in found.reason and "GetPolicy" in found.reason
    # ... and the failed read is in the scan's error list, once.
    failed = [e for e in scan.inventory.errors if e.operation == "GetPolicy"]
    assert len(failed) == 1 and failed[0].resource_id == "arn:aws:iam::aws:policy/AdministratorAccess"


def test_virtual_mfa_list_denied_makes_hardware_mfa_an_error(managed_policies: boto3.Session) -> None:
    iam = managed_policies.client("iam")
    iam.create_user(UserName="boss")
    iam.attach_user_policy(UserName="boss", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="boss")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="boss", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    hooks = [_root_row(mfa_active="true"), deny("iam", "ListVirtualMFADevices")]
    scan = live_scan(["iam_user_admin_hardware_mfa", "iam_root_hardware_mfa_enabled"], hooks=hooks)
    [user] = outcomes(scan, "iam_user_admin_hardware_mfa")["boss"]
    [root] = outcomes(scan, "iam_root_hardware_mfa_enabled")[ACCOUNT]
    for found in (user, root):
        assert found.status is Status.ERROR and found.error_code == "AccessDenied", found
    assert "ListVirtualMFADevices" in root.reason
    # With the list readable, the same account is decided.
    readable = live_scan(["iam_user_admin_hardware_mfa", "iam_root_hardware_mfa_enabled"], hooks=hooks[:1])
    assert status(readable, "iam_user_admin_hardware_mfa", "boss") is Status.FAIL
    assert status(readable, "iam_root_hardware_mfa_enabled", ACCOUNT) is Status.PASS


def test_credential_report_placeholder_values(aws_session: boto3.Session) -> None:
    """'no_information' (not tracked since 2014) and 'N/A' (never) are no use, not a parse error."""
    hooks = [
        _root_row(
            mfa_active="true",
            password_last_used="no_information",
            access_key_1_active="false",
            access_key_1_last_used_date="N/A",
        )
    ]
    scan = live_scan(["iam_root_not_recently_used", "iam_root_no_access_keys"], hooks=hooks)
    assert status(scan, "iam_root_not_recently_used", ACCOUNT) is Status.PASS
    assert status(scan, "iam_root_no_access_keys", ACCOUNT) is Status.PASS
    used = datetime.now(UTC) - timedelta(days=3)
    recent = live_scan(
        ["iam_root_not_recently_used"],
        hooks=[
            _root_row(
                password_last_used="no_information",
                access_key_1_active="true",
                access_key_1_last_used_date=used.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            )
        ],
    )
    assert status(recent, "iam_root_not_recently_used", ACCOUNT) is Status.FAIL
    assert "access key was used 3 days ago" in reason(recent, "iam_root_not_recently_used", ACCOUNT)


def test_admin_with_a_virtual_device_and_a_security_key_has_hardware_mfa(
    managed_policies: boto3.Session,
) -> None:
    """Up to eight MFA devices per user: a virtual one does not hide a hardware token beside it."""
    iam = managed_policies.client("iam")
    for name in ("both", "virtual-only"):
        iam.create_user(UserName=name)
        iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(
            UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
        )
    iam.enable_mfa_device(
        UserName="both",
        SerialNumber="GAHT12345678",
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    scan = live_scan(["iam_user_admin_hardware_mfa"])
    assert status(scan, "iam_user_admin_hardware_mfa", "both") is Status.PASS
    assert status(scan, "iam_user_admin_hardware_mfa", "virtual-only") is Status.FAIL
    assert scan.factory.counter.snapshot()["iam:ListMFADevices"] == 2  # only users with a virtual device
    denied = live_scan(["iam_user_admin_hardware_mfa"], hooks=[deny("iam", "ListMFADevices")])
    [found] = outcomes(denied, "iam_user_admin_hardware_mfa")["both"]
    assert found.status is Status.ERROR and found.error_code == "AccessDenied"
