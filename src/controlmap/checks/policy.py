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
organisation, an IP range other than ``0.0.0.0/0``) with a fixed value, as S3 itself decides
whether a policy is public (no wildcard in an identifier, no policy variable). Negated
operators (``StringNotEquals``), ``...IfExists`` (true when the key is absent: aws:SourceVpce
from the internet, aws:SourceIp through any VPC endpoint) and ``ForAllValues:`` (true for an
empty set) never narrow an Allow. The same narrowing written as a Deny does count: ``Deny *
unless aws:SourceVpce is vpce-1`` (``StringNotEquals``), or a Deny with NotPrincipal, fences
an ``Allow *`` to those callers. Conservative on purpose: when in doubt a grant is treated as
open, so a doubtful bucket is shown rather than hidden.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict

from controlmap.resources.ec2 import covers_all_addresses
from controlmap.resources.policy import (
    Condition,
    PolicyDocument,
    PolicyParseError,
    Principal,
    Statement,
    action_matches,
    parse_policy,
    pattern_overlaps,
    wildcard_match,
)

__all__ = [
    "READ",
    "WRITE",
    "Condition",
    "Grant",
    "PolicyDocument",
    "PolicyParseError",
    "Principal",
    "Statement",
    "TlsVerdict",
    "access_levels",
    "action_matches",
    "admin_doubt",
    "admin_statements",
    "could_be",
    "doubt",
    "parse_policy",
    "pattern_overlaps",
    "principals_doubt",
    "principals_granted",
    "public_doubt",
    "public_grants",
    "service_wildcards",
    "tls_doubt",
    "tls_enforcement",
    "wildcard_match",
    "wildcards_doubt",
]

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

# Condition keys that pin the caller (or the calling resource) to something specific. Not
# aws:username or aws:VpcSourceIp: a user name or a private address exists in every account.
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
        "kms:CallerAccount",
        "s3:DataAccessPointAccount",
        "s3:DataAccessPointArn",
        "lambda:EventSourceToken",
    )
)
# Keys whose values are identifiers: like S3's own "is this policy public" test, a value narrows
# only when fixed (no wildcard), since "vpce-*" or "1111*" admits endpoints and accounts of anyone.
_ID_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalServiceName",
        "kms:CallerAccount",
        "s3:DataAccessPointAccount",
        "lambda:EventSourceToken",
    )
)
_ARN_KEYS = frozenset(("aws:principalarn", "aws:sourcearn", "s3:dataaccesspointarn", "aws:sourcevpcarn"))
_ORG_PATH_KEYS = frozenset(("aws:principalorgpaths", "aws:sourceorgpaths"))

_POSITIVE_OPERATORS = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "ipaddress"}
)
_NEGATED_OPERATORS = frozenset(
    {
        "stringnotequals",
        "stringnotequalsignorecase",
        "stringnotlike",
        "arnnotequals",
        "arnnotlike",
        "notipaddress",
    }
)


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _value_is_specific(condition: Condition, value: str) -> bool:
    """Whether one condition value names something specific (see ``_ID_KEYS``)."""
    key = condition.key_lower
    text = value.strip()
    if not text or set(text) <= {"*", "?"} or "${" in text:  # a policy variable is not a fixed value
        return False
    like = condition.base_operator.lower() in ("stringlike", "arnlike", "stringnotlike", "arnnotlike")
    if key == "aws:sourceip":
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return True  # not an address: matches nothing public, keep it as narrowing
        return network.prefixlen > 0
    if key in _ID_KEYS:
        return not (like and _has_wildcard(text))
    if key == "aws:userid":
        # "AROAROLEID:*" is every session of one role; any other wildcard admits anyone.
        unique_id, _, session = text.partition(":")
        return not like or (not _has_wildcard(unique_id) and (not _has_wildcard(session) or session == "*"))
    if key in _ORG_PATH_KEYS:
        return not (like and _has_wildcard(text.split("/", 1)[0]))  # the organization itself is fixed
    if key in _ARN_KEYS:
        # An ARN whose account field is a wildcard (arn:aws:iam::*:role/x) admits every account; one
        # without an account (S3 buckets) admits whoever creates a matching name.
        parts = text.split(":")
        account = parts[4] if len(parts) >= 5 else ""
        return not (like and (_has_wildcard(account) or (not account and _has_wildcard(text))))
    return not (like and text.startswith("*"))


def is_restricting(condition: Condition) -> bool:
    """Whether this condition narrows the callers to something specific (see module docstring).

    ``...IfExists`` never narrows: every key here is absent from some requests (aws:SourceIp
    from requests through a VPC endpoint, of any account; aws:SourceVpce from the internet).
    """
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
    if condition.if_exists:
        return False
    if condition.set_qualifier and condition.set_qualifier.lower() == "forallvalues":
        return False
    if condition.key_lower == "aws:sourceip" and covers_all_addresses(list(condition.values)):
        return False  # 0.0.0.0/1 + 128.0.0.0/1: every IPv4 address, as 0.0.0.0/0 is
    return bool(condition.values) and all(_value_is_specific(condition, v) for v in condition.values)


def is_fence(condition: Condition) -> bool:
    """Whether a *Deny* with this condition refuses every caller but specific ones.

    ``Deny ... StringNotEquals aws:SourceVpce vpce-1`` denies whoever does not come through
    vpce-1 (a negated operator is true when the key is absent, so callers without the key are
    denied too), which narrows an ``Allow *`` as much as the positive condition on the Allow
    would. ``Bool aws:PrincipalIsAWSService false`` only exempts AWS service principals.
    """
    key = condition.key_lower
    if key == "aws:principalisawsservice":
        return condition.base_operator.lower() == "bool" and all(
            v.lower() == "false" for v in condition.values
        )
    if key not in RESTRICTING_KEYS or condition.set_qualifier is not None:
        return False
    if condition.base_operator.lower() not in _NEGATED_OPERATORS:
        return False
    if key == "aws:sourceip" and covers_all_addresses(list(condition.values)):
        return False  # "deny unless from anywhere" denies no IPv4 caller
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


def _covers(deny: Statement, action: str, resources: Sequence[str]) -> bool:
    """Whether a Deny statement covers ``action`` on every one of ``resources``."""
    if not deny.covers_action(action):
        return False
    if deny.not_resources is not None and not resources:
        return False
    return all(deny.covers_resource(r) for r in resources or ("*",))


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
        if _covers(deny, action, resources):
            return True
    return False


def _fencing_deny_covers(doc: PolicyDocument, action: str, resources: Sequence[str]) -> bool:
    """A Deny that refuses ``action`` on all ``resources`` to everyone but specific callers:
    everyone with only fence conditions (:func:`is_fence`), or a NotPrincipal naming principals.
    The Allow it overlaps then reaches only those callers, so it is not public."""
    for deny in doc.denies():
        if deny.not_principal is not None:
            if deny.not_principal.everyone or not deny.not_principal.identifiers():
                continue
        elif deny.principal is None or not deny.principal.everyone:
            continue
        if deny.not_principal is None and not deny.conditions:
            continue  # unconditional: handled by _unconditional_deny_covers
        if all(is_fence(c) for c in deny.conditions) and _covers(deny, action, resources):
            return True
    return False


def _cancelled(doc: PolicyDocument, action: str, resources: Sequence[str], *, everyone: bool) -> bool:
    if _unconditional_deny_covers(doc, action, resources, everyone=everyone):
        return True
    return everyone and _fencing_deny_covers(doc, action, resources)


def _granted_actions(doc: PolicyDocument, statement: Statement, *, everyone: bool) -> tuple[str, ...]:
    if statement.not_actions is not None:
        listed = ", ".join(statement.not_actions)
        return (
            (f"NotAction [{listed}]",)
            if not _cancelled(doc, "*", statement.resources, everyone=everyone)
            else ()
        )
    return tuple(
        a for a in statement.actions if not _cancelled(doc, a, statement.resources, everyone=everyone)
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
# Statements a source could not fully know
# ---------------------------------------------------------------------------------------------
#
# A template may leave parts of a statement to deploy time (``Principal = var.trusted``). The
# questions above read only fully known statements; the functions below say when one of the
# others could change the answer, so a check says UNKNOWN (naming what the statement depends
# on) instead of passing or failing on a guess. Each reads the known parts of a statement to
# rule it out where it can: a Deny cannot open anything, a statement naming specific actions
# cannot grant ``*``.

_ACTION_PARTS = frozenset({"Action", "NotAction"})
_PRINCIPAL_PARTS = frozenset({"Principal", "NotPrincipal"})
_RESOURCE_PARTS = frozenset({"Resource", "NotResource"})


def could_be(
    statement: Statement,
    effect: str,
    *,
    actions: Sequence[str] | None = None,
    resources: Sequence[str] | None = None,
    everyone: bool = False,
) -> bool:
    """Whether ``statement``, whatever its unknown parts turn out to be, could have ``effect`` and
    reach one of ``actions`` and one of ``resources`` (for everyone, with ``everyone``)."""
    unknown = statement.unknown.keys()
    if "Effect" not in unknown and statement.effect != effect:
        return False
    if actions is not None and not (_ACTION_PARTS & unknown):
        # A Deny takes something away only where it covers the action; an Allow gives something
        # wherever its actions and ``actions`` meet.
        meets = statement.covers_action if effect == "Deny" else partial(_action_overlaps, statement)
        if not any(meets(a) for a in actions):
            return False
    if (
        resources is not None
        and not (_RESOURCE_PARTS & unknown)
        and statement.not_resources is None
        and not any(statement.covers_resource(r) for r in resources)
    ):
        return False
    principal_known = not (_PRINCIPAL_PARTS & unknown) or statement.principal_named
    return not (everyone and principal_known and not statement.applies_to_everyone)


def _action_overlaps(statement: Statement, action: str) -> bool:
    """Whether the statement's actions and ``action`` (a pattern) can name a common action."""
    if statement.not_actions is not None:
        return statement.covers_action(action)
    return any(pattern_overlaps(p, action) for p in statement.actions)


def doubt(statements: Sequence[Statement]) -> str | None:
    """Why the answer is not known, naming each undecided statement and what it depends on."""
    if not statements:
        return None
    described = []
    for statement in statements[:3]:
        parts = "; ".join(f"{part} depends on {why}" for part, why in statement.unknown.items())
        described.append(f"{statement.label} ({parts})")
    more = f" and {len(statements) - 3} more" if len(statements) > 3 else ""
    return ", ".join(described) + more + ", which a static scan cannot resolve"


def _unconditional(statement: Statement) -> bool:
    return "Condition" in statement.unknown or not statement.conditions


def public_doubt(
    doc: PolicyDocument | None, grants: Sequence[Grant], *, action_filter: Iterable[str] | None = None
) -> str | None:
    """Why :func:`public_grants` may be wrong: an undecided Deny that could cancel the grants
    found, or (none found) an undecided statement that could grant to everyone."""
    if doc is None:
        return None
    if grants:
        granted = ["*" if a.startswith("NotAction") else a for g in grants for a in g.actions]
        return doubt([s for s in doc.undecided() if could_be(s, "Deny", actions=granted, everyone=True)])
    wanted = list(action_filter or ["*"])
    return doubt(
        [
            s
            for s in doc.undecided()
            if could_be(s, "Allow", actions=wanted, everyone=True)
            and ("Condition" in s.unknown or not restricting_conditions(s))
        ]
    )


def admin_doubt(doc: PolicyDocument | None, grants: Sequence[Grant]) -> str | None:
    """Why :func:`admin_statements` may be wrong (see :func:`public_doubt`)."""
    if doc is None:
        return None
    if grants:
        return doubt(
            [
                s
                for s in doc.undecided()
                if could_be(s, "Deny", actions=["*"], resources=["*"]) and _unconditional(s)
            ]
        )

    def could_be_admin(s: Statement) -> bool:
        broad_actions = (
            bool(_ACTION_PARTS & s.unknown.keys())
            or s.not_actions is not None
            or any(a.strip() in ("*", "*:*") for a in s.actions)
        )
        return (
            could_be(s, "Allow")
            and broad_actions
            and (bool(_RESOURCE_PARTS & s.unknown.keys()) or _all_resources(s))
        )

    return doubt([s for s in doc.undecided() if could_be_admin(s)])


def wildcards_doubt(
    doc: PolicyDocument | None, grants: Sequence[Grant], services: Iterable[str] | None = None
) -> str | None:
    """Why :func:`service_wildcards` may be wrong (see :func:`public_doubt`)."""
    if doc is None:
        return None
    if grants:
        hits = [a for g in grants for a in g.actions]
        return doubt([s for s in doc.undecided() if could_be(s, "Deny", actions=hits) and _unconditional(s)])
    only = {x.lower() for x in services} if services is not None else None

    def could_be_wildcard(s: Statement) -> bool:
        if not could_be(s, "Allow") or s.not_actions is not None:
            return False
        if _ACTION_PARTS & s.unknown.keys():
            return True
        return any(
            a.strip().partition(":")[2]
            and set(a.strip().partition(":")[2]) == {"*"}
            and (only is None or a.strip().partition(":")[0].lower() in only)
            for a in s.actions
        )

    return doubt([s for s in doc.undecided() if could_be_wildcard(s)])


def principals_doubt(doc: PolicyDocument | None, actions: Iterable[str]) -> str | None:
    """Why :func:`principals_granted` may have missed a grant: an undecided statement that could
    allow one of ``actions`` (to any principal)."""
    if doc is None:
        return None
    wanted = list(actions)
    return doubt([s for s in doc.undecided() if could_be(s, "Allow", actions=wanted)])


def tls_doubt(
    doc: PolicyDocument | None, verdict: TlsVerdict, action: str, resources: Sequence[str]
) -> str | None:
    """Why a verdict that TLS is not enforced may be wrong: an undecided statement that could be
    the Deny of ``action`` on ``resources`` for everyone when aws:SecureTransport is false."""
    if doc is None or verdict.enforced:
        return None

    def could_enforce(s: Statement) -> bool:
        secure = "Condition" in s.unknown or any(
            c.key_lower in ("aws:securetransport", "s3:tlsversion") for c in s.conditions
        )
        return secure and could_be(s, "Deny", actions=[action], resources=resources, everyone=True)

    return doubt([s for s in doc.undecided() if could_enforce(s)])


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


def _matches_plain_http(condition: Condition) -> bool | None:
    """Whether a TLS condition of a Deny is true for a plain-HTTP request (None: not a TLS key).

    Such a request has aws:SecureTransport false and no s3:TlsVersion key at all, so only
    ``Bool false`` and a ``NumericLessThan…IfExists`` on the version match it.
    """
    if condition.key_lower == "aws:securetransport":
        return (
            condition.base_operator.lower() == "bool"
            and condition.set_qualifier is None
            and bool(condition.values)
            and all(_is_false(v) for v in condition.values)
        )
    if condition.key_lower == "s3:tlsversion":
        return (
            condition.base_operator.lower() in ("numericlessthan", "numericlessthanequals")
            and condition.if_exists
            and condition.set_qualifier is None
            and bool(condition.values)
        )
    return None


def _tls_condition_text(statement: Statement) -> str:
    if any(c.key_lower == "aws:securetransport" for c in statement.conditions):
        return "aws:SecureTransport false"
    version = next(c for c in statement.conditions if c.key_lower == "s3:tlsversion")
    return f"s3:TlsVersion below {version.values[0]} (IfExists)"


def tls_enforcement(doc: PolicyDocument | None, bucket_arn: str) -> TlsVerdict:
    """Whether a bucket policy refuses every request not made over TLS.

    Passes when Deny statements to every principal, of every S3 action (``s3:*`` or ``*``),
    together cover the bucket and its objects (one statement for both, or one each), and their
    only conditions are ``aws:SecureTransport`` false under ``Bool`` or ``BoolIfExists`` (string
    or boolean value) and/or ``s3:TlsVersion`` below a version under ``NumericLessThanIfExists``.
    The conditions of one statement must all hold for plain HTTP (they are ANDed): plain
    ``NumericLessThan`` does not count, since plain HTTP requests carry no ``s3:TlsVersion``
    key, so such a Deny never matches them.
    """
    if doc is None or doc.is_empty:
        return TlsVerdict(enforced=False, reason="the bucket has no bucket policy")
    targets = (bucket_arn, f"{bucket_arn}/*")
    covered: dict[str, Statement] = {}
    notes: list[str] = []
    for statement in doc.denies():
        tls = [c for c in statement.conditions if _matches_plain_http(c) is not None]
        if not tls:
            continue
        where = statement.label
        if not _deny_to_all_s3(statement):
            notes.append(
                f"{where} denies insecure transport but not for Principal * and all S3 actions (s3:*)"
            )
            continue
        others = [c.key for c in statement.conditions if _matches_plain_http(c) is None]
        if others:
            notes.append(f"{where} is narrowed by other condition keys ({', '.join(sorted(set(others)))})")
            continue
        failing = [c for c in tls if not _matches_plain_http(c)]
        if failing:
            if any(c.key_lower == "s3:tlsversion" for c in failing):
                notes.append(
                    f"{where} uses NumericLessThan on s3:TlsVersion, which does not match plain HTTP "
                    "(the key is absent); use NumericLessThanIfExists or add aws:SecureTransport false"
                )
            else:
                notes.append(f"{where} tests aws:SecureTransport but not as Bool/BoolIfExists false")
            continue
        hit = [t for t in targets if statement.covers_resource(t)]
        for target in hit:
            covered.setdefault(target, statement)
        if len(hit) < len(targets):
            notes.append(f"{where} does not cover {', '.join(t for t in targets if t not in hit)}")
    if len(covered) == len(targets):
        by_index = {covered[t].index: covered[t] for t in targets}
        statements = [by_index[i] for i in sorted(by_index)]
        what = " / ".join(dict.fromkeys(_tls_condition_text(st) for st in statements))
        labels = " and ".join(st.label for st in statements)
        if len(statements) == 1:
            reason = f"{labels} denies requests with {what}"
        else:
            reason = f"{labels} deny requests with {what} on the bucket and its objects"
        return TlsVerdict(enforced=True, reason=reason, statement=statements[0].index)
    if notes:
        return TlsVerdict(enforced=False, reason="; ".join(notes))
    return TlsVerdict(
        enforced=False, reason="no bucket policy statement denies requests with aws:SecureTransport false"
    )
