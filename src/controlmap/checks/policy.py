"""IAM policy-document analysis shared by every check that reads a policy.

Bucket policies, KMS key policies, IAM identity policies, Lambda and API Gateway resource
policies all use the same grammar, so they share one parser and one set of questions:

* who may do what: :func:`public_grants` (an Allow to everyone not narrowed by a condition that
  restricts the caller, and not cancelled by an unconditional Deny);
* how broad a grant is: :func:`admin_statements` (``Allow * on *``, ``Allow NotAction``) and
  :func:`service_wildcards` (``s3:*``, ``kms:*``);
* whether a bucket refuses plain HTTP: :func:`tls_enforcement`.

The model is lenient on input (a string or a mapping; ``Statement`` as one object or a list;
every element as a string or a list) and strict about meaning: a condition only narrows a
grant when it pins the caller to something specific (a VPC endpoint, an account, an
organisation, an IP range other than ``0.0.0.0/0``). Negated operators (``StringNotEquals``),
``...IfExists`` (true when the key is absent, as it is for anonymous callers) and
``ForAllValues:`` (true for an empty set) never narrow. Conservative on purpose: when in doubt
a grant is treated as open, so a doubtful bucket is shown rather than hidden.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
        return [s for s in self.statements if s.is_allow]

    def denies(self) -> list[Statement]:
        return [s for s in self.statements if s.is_deny]


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
    try:
        return PolicyDocument.model_validate(raw)
    except PolicyParseError:
        raise
    except ValueError as exc:  # pydantic ValidationError wraps our parse errors
        cause = _parse_error_in(exc)
        raise PolicyParseError(cause or f"policy is not a valid policy document: {exc}") from None


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


READ = "read"
WRITE = "write"

# Action name prefixes that only read (or list) in every AWS service.
_READ_VERBS = (
    "Get",
    "List",
    "Describe",
    "Head",
    "BatchGet",
    "Lookup",
    "Query",
    "Scan",
    "Select",
    "Search",
    "View",
)


def access_levels(action: str) -> frozenset[str]:
    """The access levels an action or action pattern can grant: read, write, or both.

    Exact names are classified by their verb; a pattern is classified by the text before its
    first wildcard (``s3:Get*`` reads; ``s3:*``, ``s3:G*`` and ``*`` may also write).
    """
    name = action.split(":", 1)[1] if ":" in action else action
    cut = min((i for i in (name.find("*"), name.find("?")) if i >= 0), default=-1)
    if cut < 0:
        return (
            frozenset({READ})
            if name.lower().startswith(tuple(v.lower() for v in _READ_VERBS))
            else frozenset({WRITE})
        )
    prefix = name[:cut].lower()
    verbs = [v.lower() for v in _READ_VERBS]
    levels = set()
    if any(v.startswith(prefix) or prefix.startswith(v) for v in verbs):
        levels.add(READ)
    if not any(prefix.startswith(v) for v in verbs):
        levels.add(WRITE)
    return frozenset(levels)


def statement_access_levels(statement: Statement) -> frozenset[str]:
    if statement.not_actions is not None:
        return frozenset({READ, WRITE})
    levels: set[str] = set()
    for action in statement.actions:
        levels |= access_levels(action)
    return frozenset(levels)


# ---------------------------------------------------------------------------------------------
# Conditions that narrow who the caller can be
# ---------------------------------------------------------------------------------------------

# Condition keys that pin the caller (or the calling resource) to something specific.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceVpcArn",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalServiceName",
        "aws:SourceIp",
        "aws:userid",
        "aws:username",
        "aws:VpcSourceIp",
        "kms:CallerAccount",
        "s3:DataAccessPointAccount",
        "s3:DataAccessPointArn",
        "lambda:EventSourceToken",
    )
)

_POSITIVE_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
)
# Keys present on every request, so ``IfExists`` does not open them up.
_ALWAYS_PRESENT = frozenset({"aws:sourceip"})


def _value_is_specific(condition: Condition, value: str) -> bool:
    key = condition.key_lower
    text = value.strip()
    if not text or set(text) <= {"*", "?"}:
        return False
    if key in ("aws:sourceip", "aws:vpcsourceip"):
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return True  # not an address: matches nothing public, keep it as narrowing
        return network.prefixlen > 0
    if key in ("aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn", "aws:sourcevpcarn"):
        # An ARN whose account field is a wildcard (arn:aws:iam::*:role/x) admits every account.
        parts = text.split(":")
        wildcard_account = len(parts) >= 5 and ("*" in parts[4] or "?" in parts[4])
        return not (wildcard_account and condition.base_operator.lower().endswith("like"))
    # A "*-suffix" style value admits anyone choosing a matching name.
    return not (condition.base_operator.lower() == "stringlike" and text.startswith("*"))


def is_restricting(condition: Condition) -> bool:
    """Whether this condition narrows the callers to something specific (see module docstring)."""
    key = condition.key_lower
    if key == "aws:principalisawsservice":
        return (
            condition.base_operator.lower() == "bool"
            and not condition.if_exists
            and all(v.lower() == "true" for v in condition.values)
        )
    if key not in RESTRICTING_KEYS:
        return False
    if condition.base_operator.lower() not in _POSITIVE_OPERATORS or condition.negated:
        return False
    if condition.if_exists and key not in _ALWAYS_PRESENT:
        return False
    if condition.set_qualifier and condition.set_qualifier.lower() == "forallvalues":
        return False
    return bool(condition.values) and all(_value_is_specific(condition, v) for v in condition.values)


def restricting_conditions(statement: Statement) -> list[Condition]:
    return [c for c in statement.conditions if is_restricting(c)]


# ---------------------------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------------------------


class Grant(BaseModel):
    """An Allow statement found to grant something, with the actions it grants."""

    model_config = ConfigDict(frozen=True)

    statement: Statement
    actions: tuple[str, ...]  # the granted action patterns ("NotAction ..." for NotAction)
    levels: frozenset[str]

    def describe(self, principal: str = "Principal *") -> str:
        acts = ", ".join(self.actions[:5]) + (
            f" and {len(self.actions) - 5} more" if len(self.actions) > 5 else ""
        )
        who = "everyone but the NotPrincipal" if self.statement.not_principal is not None else principal
        return f"{self.statement.label} grants {acts} to {who}"

    def evidence(self) -> dict[str, Any]:
        return {
            "statement": self.statement.index,
            "sid": self.statement.sid,
            "actions": list(self.actions),
            "access": sorted(self.levels),
            "condition_keys": self.statement.condition_keys(),
        }


def _unconditional_deny_covers(
    doc: PolicyDocument, action: str, resources: Sequence[str], *, everyone: bool
) -> bool:
    """An explicit Deny without conditions covering ``action`` on all ``resources`` wins."""
    for deny in doc.denies():
        if deny.conditions:
            continue
        if everyone and not (deny.principal is None or deny.principal.everyone):
            continue  # a Deny to a few principals does not cancel an Allow to everyone
        if deny.not_principal is not None:
            continue
        if not deny.covers_action(action):
            continue
        if deny.not_resources is not None and not resources:
            continue
        if all(deny.covers_resource(r) for r in resources or ("*",)):
            return True
    return False


def _granted_actions(doc: PolicyDocument, statement: Statement, *, everyone: bool) -> tuple[str, ...]:
    if statement.not_actions is not None:
        listed = ", ".join(statement.not_actions)
        return (
            (f"NotAction [{listed}]",)
            if not _unconditional_deny_covers(doc, "*", statement.resources, everyone=everyone)
            else ()
        )
    return tuple(
        a
        for a in statement.actions
        if not _unconditional_deny_covers(doc, a, statement.resources, everyone=everyone)
    )


def public_grants(doc: PolicyDocument | None, *, action_filter: Iterable[str] | None = None) -> list[Grant]:
    """Allow statements open to everyone, not narrowed by a restricting condition, not denied.

    ``action_filter`` keeps only grants overlapping these action patterns (e.g. ``["s3:*"]``
    drops grants of other services' actions in a policy that mixes them).
    """
    if doc is None:
        return []
    wanted = list(action_filter or [])
    grants = []
    for statement in doc.allows():
        if not statement.applies_to_everyone or restricting_conditions(statement):
            continue
        actions = _granted_actions(doc, statement, everyone=True)
        if wanted:
            actions = tuple(
                a for a in actions if a.startswith("NotAction") or any(pattern_overlaps(w, a) for w in wanted)
            )
        if actions:
            levels = (
                frozenset({READ, WRITE})
                if statement.not_actions is not None
                else frozenset().union(*(access_levels(a) for a in actions))
            )
            grants.append(Grant(statement=statement, actions=actions, levels=levels))
    return grants


def _all_resources(statement: Statement) -> bool:
    if statement.not_resources is not None:
        return True  # everything but a few resources: as broad as "*" for this question
    return any(r.strip() == "*" for r in statement.resources)


def admin_statements(doc: PolicyDocument | None) -> list[Grant]:
    """Allow statements equivalent to administrator access.

    ``Allow Action "*"`` (or ``"*:*"``) on ``Resource "*"``, and ``Allow NotAction`` on ``"*"``
    (everything except a few actions). Conditions do not make a statement less than admin
    (an MFA condition still leaves an administrator), but an unconditional Deny of everything
    in the same document cancels it.
    """
    if doc is None:
        return []
    found = []
    for statement in doc.allows():
        if not _all_resources(statement):
            continue
        if statement.not_actions is not None:
            actions = _granted_actions(doc, statement, everyone=False)
        else:
            broad = [a for a in statement.actions if a.strip() in ("*", "*:*")]
            actions = tuple(
                a for a in broad if not _unconditional_deny_covers(doc, a, ("*",), everyone=False)
            )
        if actions:
            found.append(Grant(statement=statement, actions=actions, levels=frozenset({READ, WRITE})))
    return found


def service_wildcards(doc: PolicyDocument | None, services: Iterable[str] | None = None) -> list[Grant]:
    """Allow statements granting every action of a service (``s3:*``, ``kms:*``) on any resource.

    ``services`` limits the answer to those service prefixes. ``*`` alone is reported by
    :func:`admin_statements`, not here.
    """
    if doc is None:
        return []
    only = {s.lower() for s in services} if services is not None else None
    found = []
    for statement in doc.allows():
        if statement.not_actions is not None:
            continue
        hits = []
        for action in statement.actions:
            service, _, name = action.strip().partition(":")
            if not name or set(name) != {"*"} or service in ("", "*"):
                continue
            if only is not None and service.lower() not in only:
                continue
            if not _unconditional_deny_covers(doc, action, statement.resources, everyone=False):
                hits.append(action)
        if hits:
            found.append(Grant(statement=statement, actions=tuple(hits), levels=frozenset({READ, WRITE})))
    return found


def principals_granted(
    doc: PolicyDocument | None, actions: Iterable[str]
) -> list[tuple[Statement, list[str]]]:
    """Allow statements granting any of ``actions``, with the principals they name.

    Used for key administrators: which principals may run ``kms:PutKeyPolicy`` and friends.
    NotPrincipal grants are reported as ``["*"]`` (everyone but a few).
    """
    if doc is None:
        return []
    wanted = list(actions)
    out = []
    for statement in doc.allows():
        if not any(statement.covers_action(a) for a in wanted):
            continue
        if statement.not_principal is not None:
            out.append((statement, ["*"]))
        elif statement.principal is not None:
            out.append((statement, statement.principal.identifiers()))
    return out


# ---------------------------------------------------------------------------------------------
# TLS-only (S3)
# ---------------------------------------------------------------------------------------------


class TlsVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    enforced: bool
    reason: str
    statement: int | None = None


def _is_false(value: str) -> bool:
    return value.strip().lower() == "false"


def _deny_to_all_s3(statement: Statement) -> bool:
    return (
        statement.is_deny
        and statement.not_principal is None
        and statement.principal is not None
        and statement.principal.everyone
        and statement.covers_action("s3:*")
    )


def tls_enforcement(doc: PolicyDocument | None, bucket_arn: str) -> TlsVerdict:
    """Whether a bucket policy refuses every request not made over TLS.

    Passes on a Deny to every principal, of every S3 action (``s3:*`` or ``*``), on both the
    bucket and its objects, whose only condition is ``aws:SecureTransport`` false under ``Bool``
    or ``BoolIfExists`` (string or boolean value), or ``s3:TlsVersion`` below a version under
    ``NumericLessThanIfExists``. ``NumericLessThan`` without ``IfExists`` does not count: plain
    HTTP requests carry no ``s3:TlsVersion`` key, so such a Deny never matches them.
    """
    if doc is None or doc.is_empty:
        return TlsVerdict(enforced=False, reason="the bucket has no bucket policy")
    targets = (bucket_arn, f"{bucket_arn}/*")
    notes: list[str] = []
    for statement in doc.denies():
        secure = [c for c in statement.conditions if c.key_lower == "aws:securetransport"]
        tls = [c for c in statement.conditions if c.key_lower == "s3:tlsversion"]
        if not secure and not tls:
            continue
        where = statement.label
        if not _deny_to_all_s3(statement):
            notes.append(
                f"{where} denies insecure transport but not for Principal * and all S3 actions (s3:*)"
            )
            continue
        missing = [t for t in targets if not statement.covers_resource(t)]
        if missing:
            notes.append(f"{where} does not cover {', '.join(missing)}")
            continue
        others = [
            c.key for c in statement.conditions if c.key_lower not in ("aws:securetransport", "s3:tlsversion")
        ]
        if others:
            notes.append(f"{where} is narrowed by other condition keys ({', '.join(sorted(set(others)))})")
            continue
        if any(
            c.base_operator.lower() == "bool"
            and c.set_qualifier is None
            and c.values
            and all(_is_false(v) for v in c.values)
            for c in secure
        ):
            return TlsVerdict(
                enforced=True,
                reason=f"{where} denies requests with aws:SecureTransport false",
                statement=statement.index,
            )
        for c in tls:
            if c.base_operator.lower() == "numericlessthan" and c.values:
                if c.if_exists:
                    return TlsVerdict(
                        enforced=True,
                        reason=f"{where} denies requests with s3:TlsVersion below {c.values[0]} (IfExists)",
                        statement=statement.index,
                    )
                notes.append(
                    f"{where} uses NumericLessThan on s3:TlsVersion, which does not match plain HTTP "
                    "(the key is absent); use NumericLessThanIfExists or add aws:SecureTransport false"
                )
        if secure and not any(n.startswith(where) for n in notes):
            notes.append(f"{where} tests aws:SecureTransport but not as Bool/BoolIfExists false")
    if notes:
        return TlsVerdict(enforced=False, reason="; ".join(notes))
    return TlsVerdict(
        enforced=False, reason="no bucket policy statement denies requests with aws:SecureTransport false"
    )
