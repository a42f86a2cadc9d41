"""boto3 sessions from the usual places: environment, ``--profile`` (SSO included), ``--role-arn``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from botocore.loaders import Loader, create_loader
from botocore.parsers import ResponseParserError
from botocore.session import Session as BotocoreSession
from botocore.session import get_session

from controlmap.sources.aws.clients import CallCounter, ClientFactory, one_line


class SessionError(Exception):
    """Credentials or role assumption failed; the message says what to fix."""


# What a call made before the scan starts can raise when AWS cannot be reached or answered
# something that is not AWS (a proxy's or captive portal's HTML page: ResponseParserError is
# not a BotoCoreError). Each becomes a SessionError: one line, exit code 2, no traceback.
CALL_FAILURES: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)


@dataclass(frozen=True)
class SessionOptions:
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str = "controlmap-scan"
    region: str | None = None  # home region for global calls; default from the profile or us-east-1


_LOADER: Loader | None = None
_LOADER_LOCK = threading.Lock()


def _botocore_session() -> BotocoreSession:
    """A botocore session sharing one model loader per process: the EC2 model alone is megabytes
    of JSON, decoded once instead of once per session (the demo, tests and repeated scans)."""
    global _LOADER
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = create_loader()
    session = get_session()
    session.register_component("data_loader", _LOADER)
    return session


def build_session(options: SessionOptions, counter: CallCounter | None = None) -> boto3.Session:
    try:
        base = boto3.Session(
            botocore_session=_botocore_session(), profile_name=options.profile, region_name=options.region
        )
        if not base.region_name:
            base = boto3.Session(
                botocore_session=_botocore_session(), profile_name=options.profile, region_name="us-east-1"
            )
    except ProfileNotFound as exc:
        raise SessionError(f"AWS profile not found: {exc.kwargs.get('profile', options.profile)}") from None
    if options.profile and options.profile not in base.available_profiles:
        raise SessionError(f"AWS profile not found: {options.profile}")
    if options.role_arn is None:
        return base
    return _assume_role_session(base, options, counter)


def _assume_role_session(
    base: boto3.Session, options: SessionOptions, counter: CallCounter | None
) -> boto3.Session:
    """A session whose credentials come from sts:AssumeRole and refresh themselves on expiry."""
    sts = ClientFactory(base, counter=counter).client("sts", base.region_name)

    def fetch() -> dict[str, Any]:
        params: dict[str, Any] = {"RoleArn": options.role_arn, "RoleSessionName": options.role_session_name}
        if options.external_id:
            params["ExternalId"] = options.external_id
        try:
            creds = sts.assume_role(**params)["Credentials"]
        except CALL_FAILURES as exc:
            raise SessionError(f"cannot assume role {options.role_arn}: {one_line(exc)}") from None
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    refreshable = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    botocore_session = get_session()
    # botocore has no public setter for refreshable credentials; this is the documented pattern.
    botocore_session._credentials = refreshable  # type: ignore[attr-defined]
    botocore_session.set_config_variable("region", base.region_name)
    return boto3.Session(botocore_session=botocore_session)


def caller_account(factory: ClientFactory, region: str | None) -> str:
    """The account ID the credentials belong to (sts:GetCallerIdentity)."""
    try:
        return str(factory.client("sts", region).get_caller_identity()["Account"])
    except NoCredentialsError:
        raise SessionError(
            "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
            "or run `aws sso login --profile NAME` and pass --profile NAME"
        ) from None
    except CALL_FAILURES as exc:
        raise SessionError(f"cannot identify the account (sts:GetCallerIdentity): {one_line(exc)}") from None
