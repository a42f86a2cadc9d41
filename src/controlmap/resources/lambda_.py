"""Lambda functions, normalized.

Environment variable *values* never reach this model: the collector (or an IaC mapper) reduces
each value to a verdict (``EnvSecretVerdict``) with the variable's name and why it looks like a
secret, and drops the value. A check therefore cannot leak a value into a finding, a log or
the history store, because it never has one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvSecretVerdict(_Facts):
    """One environment variable that looks like it holds a secret. Never carries the value."""

    name: str
    kind: str  # aws-access-key, private-key, token, connection-string, secret-name, high-entropy
    detail: str  # why, in words that reveal nothing of the value ("value matches an AWS access key ID")


class EnvironmentFacts(_Facts):
    """A function's environment variables, as far as they can be judged without keeping values."""

    variable_names: list[str] = []
    # The key encrypting the variables at rest: None means the AWS managed key aws/lambda.
    kms_key_arn: str | None = None
    suspicious: list[EnvSecretVerdict] = []
    # Lambda answered Environment.Error instead of the variables (e.g. KMSAccessDeniedException:
    # the key's policy does not let the scanner decrypt them): names and values are unknown.
    unreadable: str | None = None
    # Variables whose name says they hold a secret but whose value the source could not see (an
    # IaC variable with no value), each with what it depends on: a secret passed that way would
    # be stored in plain text, a reference to one would not.
    undetermined: dict[str, str] = {}


class CodeSigningFacts(_Facts):
    config_arn: str | None = None  # None: no code signing configuration attached
    # Enforce (deployments of unsigned or untrusted code are refused) or Warn; None: unknown.
    untrusted_artifact_on_deployment: str | None = None
    allowed_publishers: list[str] = []  # signing profile version ARNs


class Target(_Facts):
    """A failure destination (dead-letter queue or on-failure destination); arn None: none set."""

    arn: str | None = None


class VpcFacts(_Facts):
    vpc_id: str | None = None
    subnet_ids: list[str] = []
    security_group_ids: list[str] = []

    @property
    def attached(self) -> bool:
        return bool(self.subnet_ids)


class LambdaFunction(Resource):
    resource_type: ClassVar[str] = "AWS::Lambda::Function"

    function_name: str
    package_type: str | None = None  # Zip or Image
    runtime: str | None = None  # None for container images (and when unknown)
    role_arn: str | None = None
    vpc: VpcFacts | None = None
    environment: EnvironmentFacts | None = None
    code_signing: CodeSigningFacts | None = None
    dead_letter: Target | None = None
    on_failure: Target | None = None  # EventInvokeConfig DestinationConfig.OnFailure
    # The function's resource-based policy; an empty document when it has none.
    resource_policy: PolicyDocument | None = None

    @property
    def unqualified_arn(self) -> str:
        """The ARN without a version or alias qualifier."""
        parts = self.id.split(":")
        return ":".join(parts[:7]) if len(parts) > 7 else self.id


# ---------------------------------------------------------------------------------------------
# Secret detection: every source reduces environment values to verdicts with this function.
# ---------------------------------------------------------------------------------------------

_VALUE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", "value matches an AWS access key ID"),
    ("private-key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY", "value contains a PEM private key"),
    ("token", r"\bgh[pousr]_[A-Za-z0-9]{30,}", "value matches a GitHub token"),
    ("token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "value matches a Slack token"),
    ("token", r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}", "value matches a Stripe live key"),
    ("token", r"\bAIza[0-9A-Za-z_\-]{35}\b", "value matches a Google API key"),
    ("token", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.", "value is a JSON Web Token"),
    (
        "connection-string",
        r"[a-z][a-z0-9+.\-]*://[^/\s:@]+:[^/\s@]+@",
        "value is a URL with an embedded password",
    ),
)
_NAME_PATTERN = (
    r"(PASSW(OR)?D|(^|_)PWD($|_)|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH_?KEY|"
    r"CLIENT_?SECRET|SIGNING_?KEY)"
)
# Names that say the variable holds a pointer or a setting *about* a secret, not the secret
# (TOKEN_TABLE_NAME, DB_PASSWORD_SECRET_ARN, API_KEY_PARAM, TOKEN_URL, SECRET_TTL).
_REFERENCE_NAME = (
    r"(^|_)(ARN|NAME|TABLE|PARAM|PARAMETER|PATH|ID|URL|URI|ENDPOINT|TTL|HEADER|EXPIRY|LENGTH|TYPE|REGION)$"
)
# Values that point at a secret rather than hold one: a Secrets Manager / SSM reference, an
# ARN, an SSM parameter path, a template placeholder.
_REFERENCE = (
    r"^(arn:aws[\w-]*:|\{\{resolve:|/[\w./-]+$|\$\{[^}]*\}$|ssm:|secretsmanager:|"
    r"(true|false|yes|no|none|null|enabled|disabled|\d+)$)"
)


def secret_like_name(name: str, extra_name_patterns: Sequence[str] = ()) -> bool:
    """Whether a variable's name says it holds a secret (and not a pointer to one)."""
    rules = [re.compile(_NAME_PATTERN, re.IGNORECASE)] + [
        re.compile(rx, re.IGNORECASE) for rx in extra_name_patterns
    ]
    return any(rule.search(name) for rule in rules) and not re.search(_REFERENCE_NAME, name, re.IGNORECASE)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` (0 for an empty string)."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    total = len(text)
    return -sum((n / total) * math.log2(n / total) for n in counts.values())


def classify_environment(
    variables: Mapping[str, object],
    *,
    extra_name_patterns: Sequence[str] = (),
    extra_value_patterns: Sequence[str] = (),
    entropy_threshold: float = 4.2,
    entropy_min_length: int = 20,
) -> list[EnvSecretVerdict]:
    """Verdicts for the variables that look like secrets; values are read here and nowhere else.

    A variable is suspicious when its value matches a known secret format (AWS access key ID,
    PEM private key, common API tokens, a URL with a password), when its name says it holds a
    secret (``*_PASSWORD``, ``*SECRET*``, ``*TOKEN*``…) but not a pointer to one
    (``*_ARN``, ``*_NAME``, ``*_PARAM``, ``*_URL``…) and its value is not a reference (an ARN,
    an SSM parameter path, ``{{resolve:…}}``) or empty, or when the value is a long
    string without spaces whose Shannon entropy is at or above ``entropy_threshold`` bits per
    character (random keys; hex digests stay below 4.0).
    """
    value_rules = [(kind, re.compile(rx), why) for kind, rx, why in _VALUE_PATTERNS]
    value_rules += [
        ("custom", re.compile(rx), "value matches lambda.secret_value_patterns")
        for rx in extra_value_patterns
    ]
    name_rules = [re.compile(_NAME_PATTERN, re.IGNORECASE)] + [
        re.compile(rx, re.IGNORECASE) for rx in extra_name_patterns
    ]
    reference = re.compile(_REFERENCE, re.IGNORECASE)
    reference_name = re.compile(_REFERENCE_NAME, re.IGNORECASE)
    found: list[EnvSecretVerdict] = []
    for name, raw in variables.items():
        value = "" if raw is None else str(raw)
        verdict: EnvSecretVerdict | None = None
        for kind, rule, why in value_rules:
            if rule.search(value):
                verdict = EnvSecretVerdict(name=name, kind=kind, detail=why)
                break
        stripped = value.strip()
        if verdict is None and stripped and not reference.match(stripped):
            if any(rule.search(name) for rule in name_rules) and not reference_name.search(name):
                verdict = EnvSecretVerdict(
                    name=name,
                    kind="secret-name",
                    detail="the name says it holds a secret and the value is not a reference",
                )
            elif (
                len(stripped) >= entropy_min_length
                and not any(c.isspace() for c in stripped)
                and "://" not in stripped
                and shannon_entropy(stripped) >= entropy_threshold
            ):
                verdict = EnvSecretVerdict(
                    name=name,
                    kind="high-entropy",
                    detail="the value is a random-looking string "
                    f"(entropy at least {entropy_threshold} bits per character)",
                )
        if verdict is not None:
            found.append(verdict)
    return found
