"""Pure check tests on hand-built models: the cases a live account rarely shows (IaC-style
unknown facts, errors, edge cases of selectors, imported key material, deletion windows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from controlmap.checks.cloudtrail import coverage
from controlmap.checks.registry import (
    CheckContext,
    FactUnavailable,
    Inventory,
    Outcome,
    Status,
    registry,
)
from controlmap.resources.account import AwsAccount, AwsRegion, PasswordPolicy, PublicAccessBlock, RootUser
from controlmap.resources.base import CollectionError, SourceKind, SourceRef
from controlmap.resources.cloudtrail import (
    AdvancedEventSelector,
    CloudTrailTrail,
    DataResource,
    EventSelector,
    FieldSelector,
)
from controlmap.resources.iam import AccessKey, AttachedPolicy, IamUser
from controlmap.resources.kms import KmsKey
from controlmap.resources.policy import parse_policy
from controlmap.resources.s3 import BucketEncryption, S3Bucket
from controlmap.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ACCOUNT = "111122223333"


def run(check_id: str, resource: object, *others: object, settings: Settings | None = None) -> Outcome:
    inventory = Inventory()
    for item in (resource, *others):
        inventory.add(item)  # type: ignore[arg-type]
    ctx = CheckContext(inventory=inventory, settings=settings or Settings(), now=NOW)
    try:
        result = registry()[check_id].func(resource, ctx)
    except FactUnavailable as missing:
        return missing.outcome
    assert isinstance(result, Outcome)
    return result


def bucket(**facts: object) -> S3Bucket:
    return S3Bucket(id="arn:aws:s3:::b", name="b", account_id=ACCOUNT, region="us-east-1", **facts)


def iac_bucket(**facts: object) -> S3Bucket:
    return S3Bucket(
        id="arn:aws:s3:::b",
        name="b",
        source=SourceRef(kind=SourceKind.CLOUDFORMATION, file="t.yaml", line_start=3, address="Data"),
        **facts,
    )


# ---- S3 -------------------------------------------------------------------------------------


def test_s3_unknown_fact_from_a_template_is_unknown_not_fail() -> None:
    out = run("s3_bucket_versioning_enabled", iac_bucket())
    assert out.status is Status.UNKNOWN and "not declared in the template" in out.reason


def test_s3_read_error_is_an_error_with_the_code() -> None:
    b = bucket()
    b.mark_error("policy", CollectionError(service="s3", operation="GetBucketPolicy", code="AccessDenied"))
    out = run("s3_bucket_tls_required", b)
    assert out.status is Status.ERROR and out.error_code == "AccessDenied"


def test_s3_bucket_block_covers_without_account_facts() -> None:
    on = PublicAccessBlock(
        block_public_acls=True,
        ignore_public_acls=True,
        block_public_policy=True,
        restrict_public_buckets=True,
    )
    assert run("s3_bucket_public_access_blocked", iac_bucket(public_access_block=on)).status is Status.PASS
    partial = PublicAccessBlock(block_public_acls=True, ignore_public_acls=True)
    out = run("s3_bucket_public_access_blocked", iac_bucket(public_access_block=partial))
    # The bucket's own block is required whatever the account's: a template that turns it off fails.
    assert out.status is Status.FAIL
    assert "BlockPublicPolicy, RestrictPublicBuckets off" in out.reason
    assert "does not show the account-level block" in out.reason
    assert run("s3_bucket_public_access_blocked", iac_bucket()).status is Status.UNKNOWN  # not visible
    # With the account-level block allowed to stand in, the account decides, and it is not shown.
    lenient = Settings.model_validate({"s3": {"bucket_level_block_required": False}})
    out = run("s3_bucket_public_access_blocked", iac_bucket(public_access_block=partial), settings=lenient)
    assert out.status is Status.UNKNOWN and "does not show the account-level block" in out.reason


def test_s3_switches_combine_across_levels() -> None:
    own = PublicAccessBlock(block_public_acls=True, ignore_public_acls=True)
    account = AwsAccount(
        id=f"arn:aws:::account/{ACCOUNT}",
        name=ACCOUNT,
        account_id=ACCOUNT,
        s3_public_access_block=PublicAccessBlock(block_public_policy=True, restrict_public_buckets=True),
    )
    lenient = Settings.model_validate({"s3": {"bucket_level_block_required": False}})
    checked = run(
        "s3_bucket_public_access_blocked", bucket(public_access_block=own), account, settings=lenient
    )
    assert checked.status is Status.PASS
    # By default the bucket's own block must be on: covered, but still a FAIL naming the cover.
    strict = run("s3_bucket_public_access_blocked", bucket(public_access_block=own), account)
    assert strict.status is Status.FAIL and "account-level block covers them today" in strict.reason
    own_off = bucket(public_access_block=PublicAccessBlock())
    both_off = run("s3_bucket_public_access_blocked", own_off, account)
    assert both_off.status is Status.FAIL and "off at both bucket and account level" in both_off.reason


def test_s3_bucket_block_off_while_the_account_block_could_not_be_read() -> None:
    """The bucket's own block decides the FAIL; the reason says the account level was unreadable."""
    denied = CollectionError(service="s3control", operation="GetPublicAccessBlock", code="AccessDenied")
    account = AwsAccount(
        id=f"arn:aws:::account/{ACCOUNT}",
        name=ACCOUNT,
        account_id=ACCOUNT,
        errors={"s3_public_access_block": denied},
    )
    out = run("s3_bucket_public_access_blocked", bucket(public_access_block=PublicAccessBlock()), account)
    assert out.status is Status.FAIL
    assert "account-level block could not be read" in out.reason and "AccessDenied" in out.reason


@pytest.mark.parametrize(
    "encryption, status",
    [
        (BucketEncryption(algorithm="aws:kms", kms_key_id="arn:aws:kms:us-east-1:1:key/abc"), Status.PASS),
        (BucketEncryption(algorithm="aws:kms:dsse"), Status.PASS),
        (BucketEncryption(algorithm="AES256"), Status.FAIL),
        (BucketEncryption(algorithm="none"), Status.FAIL),
    ],
)
def test_s3_encryption_kinds(encryption: BucketEncryption, status: Status) -> None:
    assert run("s3_bucket_default_encryption_kms", bucket(encryption=encryption)).status is status


def test_s3_customer_managed_key_told_apart_through_the_inventory() -> None:
    strict = Settings.model_validate({"s3": {"require_customer_managed_key": True}})
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234"
    enc = BucketEncryption(algorithm="aws:kms", kms_key_id=arn)
    unknown_key = run("s3_bucket_default_encryption_kms", bucket(encryption=enc), settings=strict)
    assert unknown_key.status is Status.UNKNOWN
    cmk = KmsKey(id=arn, name="k", account_id=ACCOUNT, region="us-east-1", key_manager="CUSTOMER")
    assert (
        run("s3_bucket_default_encryption_kms", bucket(encryption=enc), cmk, settings=strict).status
        is Status.PASS
    )
    aws = cmk.model_copy(update={"key_manager": "AWS"})
    assert (
        run("s3_bucket_default_encryption_kms", bucket(encryption=enc), aws, settings=strict).status
        is Status.FAIL
    )


# ---- IAM ------------------------------------------------------------------------------------


def account(**facts: object) -> AwsAccount:
    return AwsAccount(id=f"arn:aws:::account/{ACCOUNT}", name=ACCOUNT, account_id=ACCOUNT, **facts)


def test_root_recent_use() -> None:
    recent = account(root=RootUser(mfa_active=True, password_last_used=NOW - timedelta(days=3)))
    out = run("iam_root_not_recently_used", recent)
    assert out.status is Status.FAIL and "3 days ago" in out.reason
    old = account(root=RootUser(mfa_active=True, password_last_used=NOW - timedelta(days=200)))
    assert run("iam_root_not_recently_used", old).status is Status.PASS
    assert run("iam_root_not_recently_used", account(root=RootUser())).status is Status.PASS
    assert run("iam_root_not_recently_used", account()).status is Status.UNKNOWN


def test_root_hardware_mfa() -> None:
    virtual = account(root=RootUser(mfa_active=True, hardware_mfa=False))
    assert run("iam_root_hardware_mfa_enabled", virtual).status is Status.FAIL
    lenient = Settings.model_validate({"iam": {"root_hardware_mfa_required": False}})
    assert run("iam_root_hardware_mfa_enabled", virtual, settings=lenient).status is Status.PASS
    assert (
        run(
            "iam_root_hardware_mfa_enabled", account(root=RootUser(mfa_active=True, hardware_mfa=True))
        ).status
        is Status.PASS
    )


def test_password_policy_thresholds_are_configurable() -> None:
    strong = PasswordPolicy(
        minimum_length=16,
        require_symbols=True,
        require_numbers=True,
        require_uppercase=True,
        require_lowercase=True,
        max_age_days=None,
        reuse_prevention=24,
    )
    acct = account(password_policy_present=True, password_policy=strong)
    out = run("iam_password_policy_strong", acct)
    assert out.status is Status.FAIL and "MaxPasswordAge is unset (needs <= 90)" in out.reason
    no_expiry = Settings.model_validate({"iam": {"password_max_age_days": None}})
    assert run("iam_password_policy_strong", acct, settings=no_expiry).status is Status.PASS


def test_access_key_age_and_allowed_users() -> None:
    user = IamUser(
        id="arn:aws:iam::1:user/ci",
        name="ci",
        account_id=ACCOUNT,
        access_keys=[AccessKey(active=True, created=NOW - timedelta(days=120)), AccessKey(active=False)],
    )
    out = run("iam_user_access_keys_rotated", user)
    assert out.status is Status.FAIL and "120 days old" in out.reason
    allowed = Settings.model_validate({"iam": {"access_key_users_allowed": ["c*"]}})
    assert run("iam_user_no_active_access_keys", user, settings=allowed).status is Status.PASS
    assert run("iam_user_no_active_access_keys", user).status is Status.FAIL


def test_unreadable_aws_managed_policy_is_unknown() -> None:
    user = IamUser(
        id="arn:aws:iam::1:user/x",
        name="x",
        account_id=ACCOUNT,
        inline_policies=[],
        attached_policies=[AttachedPolicy(arn="arn:aws:iam::aws:policy/SomethingElse", name="SomethingElse")],
    )
    out = run("iam_user_no_admin_access", user)
    assert out.status is Status.UNKNOWN and "SomethingElse" in out.reason


# ---- CloudTrail -----------------------------------------------------------------------------


def trail(**facts: object) -> CloudTrailTrail:
    base: dict[str, object] = {
        "id": "arn:aws:cloudtrail:us-east-1:1:trail/t",
        "name": "t",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "home_region": "us-east-1",
        "multi_region": True,
        "is_logging": True,
    }
    base.update(facts)
    return CloudTrailTrail(**base)  # type: ignore[arg-type]


def test_coverage_basic_selectors() -> None:
    t = trail(
        event_selectors=[
            EventSelector(
                read_write_type="WriteOnly",
                data_resources=[
                    DataResource(type="AWS::S3::Object", values=["arn:aws:s3"]),
                    DataResource(
                        type="AWS::Lambda::Function", values=["arn:aws:lambda:us-east-1:1:function:f"]
                    ),
                ],
            )
        ],
        advanced_event_selectors=[],
    )
    cov = coverage(t)
    assert cov is not None
    assert cov.mgmt_write and not cov.mgmt_read
    assert cov.data_all["AWS::S3::Object"] == {"write"}
    assert "AWS::Lambda::Function" in cov.data_some


def test_coverage_advanced_selectors_read_only_and_excluded_source() -> None:
    t = trail(
        event_selectors=[],
        advanced_event_selectors=[
            AdvancedEventSelector(
                field_selectors=[
                    FieldSelector(field="eventCategory", equals=["Management"]),
                    FieldSelector(field="eventSource", not_equals=["kms.amazonaws.com"]),
                ]
            ),
            AdvancedEventSelector(
                field_selectors=[
                    FieldSelector(field="eventCategory", equals=["Data"]),
                    FieldSelector(field="resources.type", equals=["AWS::Lambda::Function"]),
                    FieldSelector(field="readOnly", equals=["true"]),
                ]
            ),
        ],
    )
    cov = coverage(t)
    assert cov is not None and cov.mgmt_read and cov.mgmt_write
    assert "kms.amazonaws.com" in cov.mgmt_excluded
    assert cov.data_all["AWS::Lambda::Function"] == {"read"}
    acct = account()
    out = run("cloudtrail_lambda_data_events", acct, t)
    assert out.status is Status.FAIL and "read only" in out.reason
    region = AwsRegion(id="r", name="us-east-1", account_id=ACCOUNT, region="us-east-1")
    assert run("kms_api_calls_logged", region, t).status is Status.FAIL


@pytest.mark.parametrize(
    "arn, everything",
    [
        ({"starts_with": ["arn:aws:s3:::"]}, True),  # every bucket, as in basic selectors
        ({"starts_with": ["arn:aws:s3"]}, True),
        ({"starts_with": ["arn:aws:s3:::payroll/"]}, False),
        ({"starts_with": ["arn:aws:s3:::"], "not_starts_with": ["arn:aws:s3:::noisy/"]}, False),
        ({"not_equals": ["arn:aws:s3:::noisy/x"]}, False),
    ],
)
def test_coverage_advanced_data_selector_arn_prefix(arn: dict, everything: bool) -> None:
    t = trail(
        event_selectors=[],
        advanced_event_selectors=[
            AdvancedEventSelector(
                field_selectors=[
                    FieldSelector(field="eventCategory", equals=["Data"]),
                    FieldSelector(field="resources.type", equals=["AWS::S3::Object"]),
                    FieldSelector(field="resources.ARN", **arn),
                ]
            )
        ],
    )
    cov = coverage(t)
    assert cov is not None
    assert ("AWS::S3::Object" in cov.data_all) is everything
    assert ("AWS::S3::Object" in cov.data_some) is not everything


def test_region_logged_errors_when_trails_could_not_be_listed() -> None:
    region = AwsRegion(id="r", name="eu-west-1", account_id=ACCOUNT, region="eu-west-1")
    inventory_error = CollectionError(
        service="cloudtrail",
        operation="DescribeTrails",
        code="AccessDenied",
        region="eu-west-1",
        account_id=ACCOUNT,
        resource_types=(CloudTrailTrail.resource_type,),
    )
    inventory = Inventory()
    inventory.add(region)
    inventory.add_error(inventory_error)
    ctx = CheckContext(inventory=inventory, settings=Settings(), now=NOW)
    out = registry()["cloudtrail_region_logged"].func(region, ctx)
    assert isinstance(out, Outcome) and out.status is Status.ERROR and "AccessDenied" in out.reason


def test_cloudwatch_delivery_stopped() -> None:
    t = trail(
        cloudwatch_log_group_arn="arn:aws:logs:us-east-1:1:log-group:ct:*",
        cloudwatch_delivery_error="",
        cloudwatch_last_delivery=NOW - timedelta(days=3),
    )
    assert run("cloudtrail_trail_cloudwatch_logs", t).status is Status.FAIL
    fresh = t.model_copy(update={"cloudwatch_last_delivery": NOW - timedelta(minutes=5)})
    assert run("cloudtrail_trail_cloudwatch_logs", fresh).status is Status.PASS


def test_trail_bucket_elsewhere_is_unknown() -> None:
    out = run("cloudtrail_trail_bucket_not_public", trail(s3_bucket_name="central-log-archive"))
    assert out.status is Status.UNKNOWN and "central-log-archive" in out.reason


# ---- KMS ------------------------------------------------------------------------------------


def key(**facts: object) -> KmsKey:
    base: dict[str, object] = {
        "id": "arn:aws:kms:us-east-1:111122223333:key/k",
        "name": "k",
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "key_spec": "SYMMETRIC_DEFAULT",
        "origin": "AWS_KMS",
    }
    base.update(facts)
    return KmsKey(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "facts, status",
    [
        ({"key_manager": "AWS"}, Status.NOT_APPLICABLE),
        ({"key_spec": "HMAC_256"}, Status.NOT_APPLICABLE),
        ({"origin": "EXTERNAL"}, Status.NOT_APPLICABLE),
        ({"key_state": "Disabled"}, Status.NOT_APPLICABLE),
        ({"rotation_enabled": True, "rotation_period_days": 180}, Status.PASS),
        ({"rotation_enabled": False}, Status.FAIL),
        ({}, Status.UNKNOWN),
    ],
)
def test_rotation_applicability(facts: dict[str, object], status: Status) -> None:
    assert run("kms_key_rotation_enabled", key(**facts)).status is status


def test_deletion_window() -> None:
    short = key(key_state="PendingDeletion", deletion_window_days=7, deletion_date=NOW + timedelta(days=7))
    out = run("kms_key_deletion_window", short)
    assert out.status is Status.FAIL and "7 days" in out.reason
    assert (
        run("kms_key_deletion_window", key(deletion_window_days=30)).status is Status.PASS
    )  # IaC PendingWindowInDays
    assert run("kms_key_deletion_window", key()).status is Status.PASS


def test_imported_key_material_expiry() -> None:
    soon = key(origin="EXTERNAL", expiration_model="KEY_MATERIAL_EXPIRES", valid_to=NOW + timedelta(days=5))
    assert run("kms_imported_key_material_expiry", soon).status is Status.FAIL
    later = soon.model_copy(update={"valid_to": NOW + timedelta(days=300)})
    assert run("kms_imported_key_material_expiry", later).status is Status.PASS
    assert (
        run("kms_imported_key_material_expiry", key(origin="EXTERNAL", key_state="PendingImport")).status
        is Status.FAIL
    )
    assert run("kms_imported_key_material_expiry", key()).status is Status.NOT_APPLICABLE


def test_key_admins_principal_star_fails() -> None:
    policy = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:PutKeyPolicy", "Resource": "*"}
            ]
        }
    )
    out = run("kms_key_administrators_allowed", key(policy=policy))
    assert out.status is Status.FAIL and "granted to *" in out.reason


def test_key_users_with_grants_for_aws_services_are_not_administrators() -> None:
    account_root = f"arn:aws:iam::{ACCOUNT}:root"
    user = f"arn:aws:iam::{ACCOUNT}:role/App"
    policy = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": account_root}, "Action": "kms:*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user},
                    "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                    "Resource": "*",
                    "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                },
            ]
        }
    )
    assert run("kms_key_administrators_allowed", key(policy=policy)).status is Status.PASS


def test_inline_service_wildcards_on_principals() -> None:
    from controlmap.resources.iam import IamRole, InlinePolicy

    wild = parse_policy(
        {"Statement": [{"Effect": "Allow", "Action": ["kms:*", "s3:GetObject"], "Resource": "*"}]}
    )
    tidy = parse_policy({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    role = IamRole(
        id="arn:aws:iam::1:role/r",
        name="r",
        account_id=ACCOUNT,
        inline_policies=[InlinePolicy(name="p", document=wild)],
    )
    out = run("iam_role_inline_no_service_wildcards", role)
    assert out.status is Status.FAIL and "inline policy p statement 1 allows kms:*" in out.reason
    ok = role.model_copy(update={"inline_policies": [InlinePolicy(name="p", document=tidy)]})
    assert run("iam_role_inline_no_service_wildcards", ok).status is Status.PASS
    linked = role.model_copy(update={"service_linked": True})
    assert run("iam_role_inline_no_service_wildcards", linked).status is Status.NOT_APPLICABLE
    unreadable = role.model_copy(update={"inline_policies": [InlinePolicy(name="p", document=None)]})
    assert run("iam_role_inline_no_service_wildcards", unreadable).status is Status.UNKNOWN
    user = IamUser(id="arn:aws:iam::1:user/u", name="u", account_id=ACCOUNT)
    assert run("iam_user_inline_no_service_wildcards", user).status is Status.UNKNOWN


def test_user_direct_policies() -> None:
    from controlmap.resources.iam import InlinePolicy

    bare = IamUser(
        id="arn:aws:iam::1:user/u", name="u", account_id=ACCOUNT, inline_policies=[], attached_policies=[]
    )
    assert run("iam_user_no_direct_policies", bare).status is Status.PASS
    direct = bare.model_copy(
        update={
            "inline_policies": [InlinePolicy(name="extra")],
            "attached_policies": [
                AttachedPolicy(arn="arn:aws:iam::aws:policy/ReadOnlyAccess", name="ReadOnlyAccess")
            ],
        }
    )
    out = run("iam_user_no_direct_policies", direct)
    assert out.status is Status.FAIL and "inline extra, ReadOnlyAccess" in out.reason


@pytest.mark.parametrize(
    "statement, status",
    [
        ({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, Status.FAIL),
        ({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}, Status.FAIL),
        (
            {"Effect": "Allow", "Action": "kms:ReEncrypt*", "NotResource": "arn:aws:kms:*:1:key/x"},
            Status.FAIL,
        ),
        (
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/abc"},
            Status.PASS,
        ),
        ({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}, Status.PASS),
        ({"Effect": "Deny", "Action": "kms:*", "Resource": "*"}, Status.PASS),
        # Every key of every account and region, written as an ARN pattern.
        ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:*:key/*"}, Status.FAIL),
        ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": ["arn:aws:kms:*"]}, Status.FAIL),
        ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:1:key/*"}, Status.FAIL),
        (
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/*"},
            Status.FAIL,
        ),
        ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:1:key/app-*"}, Status.PASS),
    ],
)
def test_iam_policy_decrypt_on_all_keys(statement: dict[str, object], status: Status) -> None:
    from controlmap.resources.iam import IamManagedPolicy

    policy = IamManagedPolicy(
        id="arn:aws:iam::1:policy/p",
        name="p",
        account_id=ACCOUNT,
        document=parse_policy({"Statement": [statement]}),
    )
    assert run("iam_policy_no_kms_decrypt_on_all_keys", policy).status is status
