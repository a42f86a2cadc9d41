"""Account-level settings a Terraform configuration can declare: the IAM password policy."""

from __future__ import annotations

from controlmap.resources.account import AwsAccount, PasswordPolicy
from controlmap.resources.base import Resource
from controlmap.sources.iac.common import first_unresolved
from controlmap.sources.iac.facts import to_bool, to_int, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, primary
from controlmap.sources.iac.terraform.mappers._common import base


def account_model(item: TfItem, build: TfBuild) -> tuple[AwsAccount, list[Resource]]:
    for existing in build.all(AwsAccount):
        return existing, []
    model = AwsAccount(**base(item, build, "the account"))
    return model, [model]


@primary("aws_iam_account_password_policy")
def password_policy(item: TfItem, build: TfBuild) -> list[Resource]:
    model, created = account_model(item, build)
    missing = first_unresolved(item.attrs)
    if missing is not None:
        unknown(model, "password_policy", item.address, missing)
        return created

    def flag(name: str, default: bool = False) -> bool:
        return bool(to_bool(item.get(name, default)))

    def number(name: str) -> int | None:
        value = to_int(item.get(name))
        return value if isinstance(value, int) else None

    model.password_policy_present = True
    model.password_policy = PasswordPolicy(
        minimum_length=number("minimum_password_length") or 8,
        require_symbols=flag("require_symbols"),
        require_numbers=flag("require_numbers"),
        require_uppercase=flag("require_uppercase_characters"),
        require_lowercase=flag("require_lowercase_characters"),
        allow_users_to_change=flag("allow_users_to_change_password", True),
        max_age_days=number("max_password_age"),
        reuse_prevention=number("password_reuse_prevention"),
        hard_expiry=flag("hard_expiry"),
    )
    return created
