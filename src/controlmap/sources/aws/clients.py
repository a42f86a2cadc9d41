"""The only way controlmap talks to AWS: a client factory that is read-only by construction.

Every client it makes carries two botocore event handlers:

* a guard on ``before-call`` that refuses any operation that is not a read (Get*, List*,
  Describe*, Head*, BatchGet*, Lookup*, plus a short allowlist, minus the reads that hand out
  credentials, secrets or data: ``NOT_READS``) *before* the request is signed or sent, and the
  same guard on ``before-sign``, so that no presigned URL or POST for such an operation is made;
* a counter of API calls (``before-call``, once per logical call) and of HTTP attempts
  (``before-send``, retries included), per ``service:Operation``.

Clients use botocore's adaptive retry mode (client-side rate limiting on throttling errors)
and a connection pool sized to the scan's concurrency. ``AWS_ENDPOINT_URL`` and
``AWS_ENDPOINT_URL_<SERVICE>`` are honoured by botocore itself, as in every boto3 tool.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config

READ_PREFIXES = ("Get", "List", "Describe", "Head", "BatchGet", "Lookup")

# Operations that do not start with a read prefix but change nothing a customer owns.
READ_ALLOWLIST = frozenset(
    {
        "iam:GenerateCredentialReport",  # asks IAM to build the credential report we then read
        "sts:AssumeRole",  # --role-arn: obtains credentials, changes nothing
        "config:SelectResourceConfig",  # AWS Config advanced query (read)
        "config:SelectAggregateResourceConfig",
    }
)


# Operations named like reads that are not reads of configuration: they hand out credentials or
# tokens, return secret values or customer data, or create something as a side effect. A scanner
# needs none of them, so they are refused like writes ("<boto3 service name>:<Operation>").
NOT_READS = frozenset(
    {
        "secretsmanager:GetSecretValue",
        "secretsmanager:BatchGetSecretValue",
        "ssm:GetParameter",  # SecureString values, decrypted on request
        "ssm:GetParameters",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "ec2:GetPasswordData",
        "s3:GetObject",  # customer data, not configuration
        "s3:GetObjectTorrent",
        "sts:GetSessionToken",
        "sts:GetFederationToken",
        "sts:GetWebIdentityToken",
        "cognito-identity:GetId",  # creates an identity
        "cognito-identity:GetOpenIdToken",
        "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "cognito-identity:GetCredentialsForIdentity",
        "ecr:GetAuthorizationToken",
        "ecr-public:GetAuthorizationToken",
        "codeartifact:GetAuthorizationToken",
        "redshift:GetClusterCredentials",  # may create a database user
        "redshift:GetClusterCredentialsWithIAM",
        "redshift-serverless:GetCredentials",
        "sso:GetRoleCredentials",
        "lightsail:GetRelationalDatabaseMasterUserPassword",
        "lightsail:GetInstanceAccessDetails",  # creates temporary SSH keys
        "lakeformation:GetTemporaryGlueFunctionCredentials",
        "lakeformation:GetTemporaryGlueTableCredentials",
        "emr-containers:GetManagedEndpointSessionCredentials",
        "quicksight:GetDashboardEmbedUrl",
        "quicksight:GetSessionEmbedUrl",
        "codepipeline:GetJobDetails",  # returns the job's temporary credentials
        "codepipeline:GetThirdPartyJobDetails",
        "kinesis-video-signaling:GetIceServerConfig",
        "iot:GetRegistrationCode",  # creates the code on first call
        "iot:DescribeEndpoint",  # creates the endpoint on first call
        # customer data: items, records, log lines, query results, files
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodbstreams:GetRecords",
        "kinesis:GetRecords",
        "logs:GetLogEvents",
        "logs:GetLogRecord",
        "logs:GetQueryResults",
        "athena:GetQueryResults",
        "codecommit:GetFile",
        "codecommit:GetBlob",
        "codecommit:GetFolder",
        "ec2:GetConsoleOutput",  # an instance's console, often with secrets printed at boot
        "ec2:GetConsoleScreenshot",
        "ec2:GetLaunchTemplateData",  # includes the instance's user data
        # code download links (presigned URLs) and secret values in configuration
        "lambda:GetFunction",  # Code.Location; ListFunctions has the configuration
        "lambda:GetLayerVersion",
        "lambda:GetLayerVersionByArn",
        "ecr:GetDownloadUrlForLayer",
        "apigateway:GetApiKey",  # includeValue returns the key
        "apigateway:GetApiKeys",
        "glue:GetConnection",  # connection passwords unless HidePassword
        "glue:GetConnections",
        "kms:GetParametersForImport",  # creates a wrapping key and import token
    }
)


class ReadOnlyViolation(RuntimeError):
    """Raised before sending any AWS request that is not a read."""


class EndpointConfigError(ValueError):
    """botocore cannot make a client from the configuration (e.g. ``AWS_ENDPOINT_URL=not-a-url``)."""


def is_read_operation(service: str, operation: str, *, service_name: str | None = None) -> bool:
    """Whether ``service:operation`` only reads configuration (``service``: the endpoint prefix
    the counters use; ``service_name``: boto3's name, when it differs, for ``NOT_READS``)."""
    if f"{service_name or service}:{operation}" in NOT_READS or f"{service}:{operation}" in NOT_READS:
        return False
    return operation.startswith(READ_PREFIXES) or f"{service}:{operation}" in READ_ALLOWLIST


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An AWS failure's message on one line, without a response body: botocore puts details on
    further lines, a parse failure appends whatever answered (a proxy's HTML page, a truncated
    response), and a local endpoint may answer an unknown API with an HTML error page."""
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ResponseParserError):
        first = str(exc).splitlines()[0] if str(exc) else ""
        return (
            f"{first.removesuffix(' Further retries may succeed:')} (the endpoint did not answer as AWS does)"
        )
    text = str(exc.response.get("Error", {}).get("Message", "")) if isinstance(exc, ClientError) else str(exc)
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        return "the endpoint answered with an HTML page, not an AWS response"
    return " ".join(text.split())[:limit]


class CallCounter:
    """Thread-safe counts of API calls and HTTP attempts per ``service:Operation``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()

    def count_call(self, key: str) -> None:
        with self._lock:
            self.calls[key] += 1

    def count_attempt(self, key: str) -> None:
        with self._lock:
            self.attempts[key] += 1

    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def by_service(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        with self._lock:
            for key, n in self.calls.items():
                out[key.split(":", 1)[0]] += n
        return dict(sorted(out.items()))

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.calls.items()))

    @property
    def retries(self) -> int:
        with self._lock:
            return max(0, sum(self.attempts.values()) - sum(self.calls.values()))


def _custom_endpoint(service: str) -> bool:
    specific = f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}"
    return bool(os.environ.get(specific) or os.environ.get("AWS_ENDPOINT_URL"))


def use_local_s3control_endpoint(client: Any) -> None:
    """Let an S3 Control client reach a local endpoint (see ``_strip_account_host``)."""
    client.meta.events.register("before-sign.s3-control", _strip_account_host)


def _strip_account_host(request: Any, **_: Any) -> None:
    """S3 Control puts the account ID in the host name (<account>.s3-control...). A local
    endpoint (moto, LocalStack) has no such names: send the call to the endpoint as configured."""
    parts = urlsplit(request.url)
    host, _, rest = parts.netloc.partition(".")
    if host.isdigit() and len(host) == 12 and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


class ClientFactory:
    """Makes (and caches) guarded, counted boto3 clients per service and region."""

    def __init__(
        self,
        session: boto3.Session,
        *,
        max_pool_connections: int = 20,
        max_attempts: int = 8,
        counter: CallCounter | None = None,
        client_hooks: Sequence[Callable[[Any], None]] = (),
    ) -> None:
        self.session = session
        # Called with each new client after instrumentation (the demo installs local fakes for
        # APIs moto lacks; the guard still runs first, so a fake cannot widen what is allowed).
        self.client_hooks = tuple(client_hooks)
        self.counter = counter or CallCounter()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="controlmap",
        )

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            try:
                client = self.session.client(service, region_name=region, config=self._config)  # type: ignore[call-overload]
            except ValueError as exc:  # botocore: "Invalid endpoint: ...", a malformed region name
                raise EndpointConfigError(f"cannot make a {service} client: {exc}") from None
            if service == "s3control" and _custom_endpoint(service):
                use_local_s3control_endpoint(client)
            self._instrument(client)
            for hook in self.client_hooks:
                hook(client)
            self._clients[key] = client
            return client

    def _instrument(self, client: Any) -> None:
        service_id = client.meta.service_model.service_id.hyphenize()
        endpoint_prefix = client.meta.service_model.endpoint_prefix
        service_name = client.meta.service_model.service_name
        counter = self.counter

        def guard(model: Any, **_: Any) -> None:
            name = model.name
            if not is_read_operation(endpoint_prefix, name, service_name=service_name):
                raise ReadOnlyViolation(
                    f"controlmap is read-only: refused {endpoint_prefix}:{name} before sending it"
                )
            counter.count_call(f"{endpoint_prefix}:{name}")

        def attempt(event_name: str = "", **_: Any) -> None:
            # botocore emits before-send.<service-id>.<Operation> once per HTTP attempt.
            counter.count_attempt(f"{endpoint_prefix}:{event_name.rsplit('.', 1)[-1]}")

        def sign_guard(operation_name: str = "", **_: Any) -> None:
            # generate_presigned_url/_post skip before-call: they sign a request for someone
            # else to send (a PutObject or GetObject link with the scanner's credentials).
            if not is_read_operation(endpoint_prefix, operation_name, service_name=service_name):
                raise ReadOnlyViolation(
                    f"controlmap is read-only: refused to sign {endpoint_prefix}:{operation_name}"
                )

        # Register first so the guard runs before anything else on the call path.
        client.meta.events.register_first(f"before-call.{service_id}", guard)
        client.meta.events.register_first(f"before-sign.{service_id}", sign_guard)
        client.meta.events.register(f"before-send.{service_id}", attempt)
