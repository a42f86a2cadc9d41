"""Demo IAM: an administrator with virtual MFA, a console user without MFA, a CI user with an
old access key, least-privilege and admin-equivalent policies, roles, a weak password policy."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from controlmap.demo.seed import SeedContext, demo_client_hook, seeder
from controlmap.demo.server import DEMO_ACCOUNT_ID

log = logging.getLogger(__name__)

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _assume(service: str) -> str:
    return _doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


@seeder("iam")
def seed_iam(ctx: SeedContext) -> None:
    iam = ctx.client("iam")
    account = ctx.account_id
    iam.update_account_password_policy(MinimumPasswordLength=8, RequireNumbers=True)  # IAM-05 FAIL

    iam.create_user(UserName="alice-admin")
    iam.create_login_profile(UserName="alice-admin", Password="Demo-Passw0rd-not-real!")
    iam.attach_user_policy(UserName="alice-admin", PolicyArn=_managed_admin(iam))
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice-admin")["VirtualMFADevice"][
        "SerialNumber"
    ]
    iam.enable_mfa_device(
        UserName="alice-admin",
        SerialNumber=serial,
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )

    iam.create_user(UserName="carol-console")  # console password, no MFA: IAM-02 FAIL
    iam.create_login_profile(UserName="carol-console", Password="Demo-Passw0rd-not-real!")
    iam.create_group(GroupName="developers")
    iam.add_user_to_group(GroupName="developers", UserName="carol-console")
    iam.put_group_policy(
        GroupName="developers",
        PolicyName="read-app-buckets",
        PolicyDocument=_doc(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:aws:s3:::demo-*",
            }
        ),
    )

    iam.create_user(UserName="ci-deployer")  # long-term key, 200 days old: IAM-04, IAM-06 FAIL
    iam.create_access_key(UserName="ci-deployer")
    _age_access_keys(account, "ci-deployer", days=200)

    iam.create_user(UserName="reporting-bot")  # a key created today: IAM-06 PASS (IAM-04 still FAIL)
    iam.create_access_key(UserName="reporting-bot")

    readonly = iam.create_policy(
        PolicyName="demo-app-readonly",
        PolicyDocument=_doc(
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "*"}
        ),
    )["Policy"]["Arn"]
    wildcard = iam.create_policy(
        PolicyName="demo-data-wildcard",  # dynamodb:* : IAM-03 FAIL (service wildcard)
        PolicyDocument=_doc({"Effect": "Allow", "Action": ["dynamodb:*", "s3:GetObject"], "Resource": "*"}),
    )["Policy"]["Arn"]
    iam.create_policy(
        PolicyName="demo-everything-but-iam",  # Allow NotAction on *: admin-equivalent
        PolicyDocument=_doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
    )

    iam.create_role(RoleName="demo-app-role", AssumeRolePolicyDocument=_assume("lambda.amazonaws.com"))
    iam.attach_role_policy(RoleName="demo-app-role", PolicyArn=readonly)
    iam.create_role(RoleName="demo-data-pipeline", AssumeRolePolicyDocument=_assume("glue.amazonaws.com"))
    iam.attach_role_policy(RoleName="demo-data-pipeline", PolicyArn=wildcard)
    iam.create_role(RoleName="demo-breakglass", AssumeRolePolicyDocument=_assume("ec2.amazonaws.com"))
    iam.put_role_policy(
        RoleName="demo-breakglass",
        PolicyName="everything",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),  # IAM-03 FAIL
    )


def _managed_admin(iam: Any) -> str:
    """AdministratorAccess if the local server loaded AWS managed policies, else a look-alike."""
    try:
        iam.get_policy(PolicyArn=ADMIN)
        return ADMIN
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_policy(
                PolicyName="DemoAdministratorAccess",
                PolicyDocument=_doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
            )["Policy"]["Arn"]
        )


def _age_access_keys(account: str, user: str, days: int) -> None:
    """moto dates keys 'now'; the demo backdates them in the in-process server to show IAM-06."""
    try:
        from moto.iam.models import iam_backends

        backend = iam_backends[account]["global"]
        when = datetime.now(UTC) - timedelta(days=days)
        for key in backend.users[user].access_keys:
            key.create_date = when
    except Exception as exc:
        log.debug("could not backdate demo access keys: %s", exc)


@demo_client_hook
def root_row_in_credential_report(client: Any) -> None:
    """moto's credential report has no <root_account> row; the demo's root signed in 2 days ago."""
    if client.meta.service_model.service_name != "iam":
        return

    def add_root(parsed: dict[str, Any], **_: Any) -> None:
        content = parsed.get("Content")
        if not isinstance(content, bytes) or b"<root_account>" in content:
            return
        header, _sep, rest = content.decode("utf-8").partition("\n")
        columns = header.split(",")
        row = dict.fromkeys(columns, "N/A")
        row.update(
            {
                "user": "<root_account>",
                "arn": f"arn:aws:iam::{DEMO_ACCOUNT_ID}:root",
                "user_creation_time": "2019-04-01T09:00:00+00:00",
                "password_enabled": "not_supported",
                "password_last_used": (datetime.now(UTC) - timedelta(days=2)).strftime(
                    "%Y-%m-%dT%H:%M:%S+00:00"
                ),
                "mfa_active": "false",
                "access_key_1_active": "false",
                "access_key_2_active": "false",
            }
        )
        line = ",".join(row[c] for c in columns)
        parsed["Content"] = f"{header}\n{line}\n{rest}".encode()

    client.meta.events.register("after-call.iam.GetCredentialReport", add_root)
