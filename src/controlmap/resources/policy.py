"""IAM policy documents as a typed model: what every source fills and the policy analysis reads.

Lenient on input (JSON text or a mapping; ``Statement`` as one object or a list; every element
as a string or a list; keys in any case) and normalized on output: every element is a tuple of
strings. The analysis (public grants, admin, TLS-only) lives in ``controlmap.checks.policy``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# How a source writes the account that owns a resource when it cannot know its number (a
# template before deployment: AWS::AccountId, data.aws_caller_identity). Policy checks read
# ``arn:aws:iam::<own account>:root`` as that account's root, never as another account.
OWN_ACCOUNT = "<own account>"

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class PolicyParseError(ValueError):
    """The policy text is not a JSON policy document; the message says what is wrong."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _as_text(value: Any) -> str:
    """A policy scalar as text: booleans as JSON spells them, unresolved IaC expressions as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(_as_text(v) for v in _as_list(value))


class Principal(BaseModel):
    """A ``Principal`` or ``NotPrincipal`` element: ``"*"`` or a mapping of kind -> identifiers."""

    model_config = ConfigDict(frozen=True)

    everyone: bool = False  # "*" or {"AWS": "*"} (any kind whose identifiers include "*")
    entries: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # "AWS" -> ("arn:...",)

    @classmethod
    def parse(cls, raw: Any) -> Principal:
        if isinstance(raw, str):
            return cls(everyone=raw.strip() == "*", entries={} if raw.strip() == "*" else {"AWS": (raw,)})
        if isinstance(raw, dict):
            entries = {str(kind): _texts(ids) for kind, ids in raw.items()}
            everyone = any("*" in ids for ids in entries.values())
            return cls(everyone=everyone, entries=entries)
        return cls(entries={"AWS": _texts(raw)})

    def identifiers(self) -> list[str]:
        if self.everyone:
            return ["*"]
        return [i for ids in self.entries.values() for i in ids]


class Condition(BaseModel):
    """One operator-key pair of a ``Condition`` block, with its values."""

    model_config = ConfigDict(frozen=True)

    operator: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    key: str  # as written, e.g. "aws:SourceVpce"
    values: tuple[str, ...]

    @property
    def base_operator(self) -> str:
        """The operator without set qualifier and ``IfExists``: ``StringLike``."""
        op = self.operator.split(":", 1)[-1]
        return op[: -len("IfExists")] if op.endswith("IfExists") else op

    @property
    def if_exists(self) -> bool:
        return self.operator.endswith("IfExists")

    @property
    def set_qualifier(self) -> str | None:
        return self.operator.split(":", 1)[0] if ":" in self.operator else None

    @property
    def negated(self) -> bool:
        return "Not" in self.base_operator

    @property
    def key_lower(self) -> str:
        return self.key.lower()


class Statement(BaseModel):
    """One statement, normalized: every element is a tuple of strings."""

    model_config = ConfigDict(frozen=True)

    index: int  # 1-based position in the document, as people count statements
    sid: str | None = None
    effect: str = "Allow"  # "Allow" or "Deny" (normalized capitalisation)
    principal: Principal | None = None
    not_principal: Principal | None = None
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    # Elements whose value a source could not know (an IaC variable without a value), each with
    # what it depends on: "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
    # "Resource", "NotResource" or "Condition" (their fields hold display stand-ins). The analysis
    # leaves such a statement out of what it knows and says UNKNOWN where it could decide.
    unknown: dict[str, str] = Field(default_factory=dict)
    # The unknown parts of Principal/NotPrincipal are inside ARNs with literal text around them
    # (``arn:aws:iam::${var.account}:root``): IAM names such principals one by one, so they are
    # never everyone, though which principal they are is not known.
    principal_named: bool = False

    @property
    def label(self) -> str:
        return f"statement {self.index}" + (f" ({self.sid})" if self.sid else "")

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    @property
    def is_deny(self) -> bool:
        return self.effect == "Deny"

    @property
    def applies_to_everyone(self) -> bool:
        """Principal ``*`` / ``{"AWS": "*"}``, or NotPrincipal (everyone but a few)."""
        if self.not_principal is not None:
            return True
        return self.principal is not None and self.principal.everyone

    def covers_action(self, action: str) -> bool:
        """Whether the statement's Action (or NotAction) includes ``action`` (may itself be a pattern)."""
        if self.not_actions is not None:
            return not any(pattern_overlaps(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    def covers_resource(self, resource: str) -> bool:
        if self.not_resources is not None:
            return not any(pattern_overlaps(p, resource, case_sensitive=True) for p in self.not_resources)
        return any(wildcard_match(p, resource, case_sensitive=True) for p in self.resources)

    def condition_keys(self) -> list[str]:
        return sorted({c.key for c in self.conditions})


class PolicyDocument(BaseModel):
    """A parsed policy document. Accepts the raw AWS JSON (text or mapping) as input.

    ``PolicyDocument.model_validate(raw)`` and :func:`parse_policy` both normalize; a model field
    typed ``PolicyDocument | None`` therefore takes the raw JSON any source has.
    """

    model_config = ConfigDict(frozen=True)

    version: str | None = None
    statements: tuple[Statement, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_raw(cls, raw: Any) -> Any:
        if isinstance(raw, (str, bytes)):
            raw = _load_json(raw)
        if isinstance(raw, dict) and "statements" not in raw:
            return _normalize(raw)
        return raw

    @property
    def is_empty(self) -> bool:
        return not self.statements

    def allows(self) -> list[Statement]:
        """The Allow statements that are fully known."""
        return [s for s in self.statements if s.is_allow and not s.unknown]

    def denies(self) -> list[Statement]:
        """The Deny statements that are fully known."""
        return [s for s in self.statements if s.is_deny and not s.unknown]

    def undecided(self) -> list[Statement]:
        """Statements with parts a source could not know (see ``Statement.unknown``)."""
        return [s for s in self.statements if s.unknown]


def _load_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise PolicyParseError(f"policy is not valid JSON: {exc}") from None


def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
    lowered = {str(k).lower(): v for k, v in raw.items()}
    statements = lowered.get("statement")
    if statements is None:
        statements = []
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise PolicyParseError("policy Statement must be an object or a list of objects")
    out = []
    for index, item in enumerate(statements, start=1):
        if not isinstance(item, dict):
            raise PolicyParseError(f"policy statement {index} is not an object")
        out.append(_statement(index, item))
    version = lowered.get("version")
    return {"version": None if version is None else _as_text(version), "statements": out}


def _statement(index: int, raw: dict[str, Any]) -> Statement:
    fields = {str(k).lower(): v for k, v in raw.items()}
    effect = _as_text(fields.get("effect", "Allow")).strip().capitalize()
    if effect not in ("Allow", "Deny"):
        raise PolicyParseError(f"policy statement {index} has Effect {effect!r} (expected Allow or Deny)")
    conditions: list[Condition] = []
    raw_conditions = fields.get("condition")
    if raw_conditions is None:
        raw_conditions = {}
    if not isinstance(raw_conditions, dict):
        raise PolicyParseError(f"policy statement {index} has a Condition that is not an object")
    for operator, pairs in raw_conditions.items():
        if not isinstance(pairs, dict):
            raise PolicyParseError(f"policy statement {index} condition {operator!r} is not an object")
        for key, values in pairs.items():
            conditions.append(Condition(operator=str(operator), key=str(key), values=_texts(values)))
    return Statement(
        index=index,
        sid=_as_text(fields["sid"]) if fields.get("sid") not in (None, "") else None,
        effect=effect,
        principal=Principal.parse(fields["principal"]) if "principal" in fields else None,
        not_principal=Principal.parse(fields["notprincipal"]) if "notprincipal" in fields else None,
        actions=_texts(fields.get("action")),
        not_actions=_texts(fields["notaction"]) if "notaction" in fields else None,
        resources=_texts(fields.get("resource")),
        not_resources=_texts(fields["notresource"]) if "notresource" in fields else None,
        conditions=tuple(conditions),
    )


def parse_policy(raw: Any) -> PolicyDocument:
    """Parse a policy from JSON text, a mapping, or an already parsed document."""
    if isinstance(raw, PolicyDocument):
        return raw
    if raw is None or raw == "" or raw == {}:
        return PolicyDocument()
    if not isinstance(raw, (dict, str, bytes)):
        raise PolicyParseError(f"a policy document must be a JSON object, got {_kind(raw)}")
    try:
        return PolicyDocument.model_validate(raw)
    except PolicyParseError:
        raise
    except ValueError as exc:  # pydantic ValidationError wraps our parse errors
        cause = _parse_error_in(exc)
        message = cause or f"policy is not a valid policy document: {_first_error(exc)}"
        raise PolicyParseError(message) from None


def _kind(value: Any) -> str:
    return {list: "a list", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _first_error(exc: ValueError) -> str:
    """One line for the user, not pydantic's multi-line report with its documentation URL."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        for err in errors():
            if err.get("type") == "model_type" and not err.get("loc"):
                return f"it must be a JSON object (got {_kind(err.get('input'))})"
            where = ".".join(str(part) for part in err.get("loc") or ())
            return f"{where + ': ' if where else ''}{err.get('msg')} (got {_kind(err.get('input'))})"
    return str(exc).splitlines()[0]


def _parse_error_in(exc: ValueError) -> str | None:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        for err in errors():
            ctx = err.get("ctx") or {}
            inner = ctx.get("error")
            if isinstance(inner, PolicyParseError):
                return str(inner)
    return None


# ---------------------------------------------------------------------------------------------
# Matching actions and resources
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _pattern_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = False) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character."""
    return bool(_pattern_regex(pattern, case_sensitive).match(value))


def action_matches(pattern: str, action: str) -> bool:
    """Whether an Action pattern (``*``, ``s3:*``, ``s3:Get*``) covers ``action`` (case-insensitive).

    ``action`` may itself be a pattern: ``s3:*`` covers ``s3:Get*`` (the literal text matches),
    ``s3:Get*`` does not cover ``s3:*``.
    """
    return wildcard_match(pattern, action)


def pattern_overlaps(a: str, b: str, *, case_sensitive: bool = False) -> bool:
    """Whether two patterns can match a common value (either covers the other's literal text)."""
    return wildcard_match(a, b, case_sensitive=case_sensitive) or wildcard_match(
        b, a, case_sensitive=case_sensitive
    )
