"""Environment variables from a template, reduced to verdicts before any model sees them.

Only literal values are judged; a value computed at deploy time (``!Ref DbPassword``,
``{{resolve:secretsmanager:…}}``, ``aws_secretsmanager_secret_version.x.secret_string``) is a
reference, which is what the control asks for. Values are never stored, logged or returned.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.lambda_ import EnvironmentFacts, classify_environment, secret_like_name
from controlmap.sources.iac.common import ResourceRef, Unresolved


def environment_facts(variables: Any, kms_key: str | None) -> EnvironmentFacts | Unresolved:
    if isinstance(variables, Unresolved):
        return variables
    if not isinstance(variables, dict):
        return EnvironmentFacts(variable_names=[], kms_key_arn=kms_key, suspicious=[])
    literal: dict[str, str] = {}
    undetermined: dict[str, str] = {}
    for name, value in variables.items():
        if isinstance(value, Unresolved) and not value.exact and secret_like_name(str(name)):
            # A value given at deploy time under a secret's name: the secret itself would be
            # stored in plain text, a reference to it (an ARN, a parameter name) would not.
            undetermined[str(name)] = f"{name} depends on {value.depends_on}"
        if isinstance(value, (Unresolved, ResourceRef, dict, list)):
            literal[str(name)] = "${reference}"  # computed: a reference, not a secret in the template
        elif isinstance(value, bool):
            literal[str(name)] = "true" if value else "false"
        elif value is not None:
            literal[str(name)] = str(value)
    verdicts = classify_environment(literal)
    literal.clear()  # nothing of the values outlives the verdicts
    return EnvironmentFacts(
        variable_names=sorted(str(n) for n in variables),
        kms_key_arn=kms_key,
        suspicious=verdicts,
        undetermined=undetermined,
    )
