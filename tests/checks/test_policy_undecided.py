"""Statements a source could not fully know: left out of what the analysis knows, and named when
they could change its answer (a template's ``Principal = var.trusted``)."""

from __future__ import annotations

from typing import Any

import pytest

from controlmap.checks.policy import (
    PolicyDocument,
    TlsVerdict,
    admin_doubt,
    admin_statements,
    parse_policy,
    principals_doubt,
    public_doubt,
    public_grants,
    tls_doubt,
    tls_enforcement,
    wildcards_doubt,
)

BUCKET = "arn:aws:s3:::acme"


def document(*statements: tuple[dict[str, Any], dict[str, str]]) -> PolicyDocument:
    """A policy whose statements carry the parts a source could not know."""
    parsed = parse_policy({"Statement": [s for s, _ in statements]})
    marked = [
        statement.model_copy(update={"unknown": unknown})
        for statement, (_, unknown) in zip(parsed.statements, statements, strict=True)
    ]
    return parsed.model_copy(update={"statements": tuple(marked)})


PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
WHO = {"Principal": "var.who (no default)"}


def test_a_statement_with_unknown_parts_is_left_out_of_what_is_known() -> None:
    doc = document((PUBLIC_READ, WHO))
    assert doc.allows() == [] and doc.denies() == [] and len(doc.undecided()) == 1
    assert public_grants(doc) == []


def test_an_allow_to_someone_unknown_makes_public_access_undecided() -> None:
    doc = document((PUBLIC_READ, WHO))
    why = public_doubt(doc, public_grants(doc), action_filter=["s3:*"])
    assert why is not None and "statement 1 (Principal depends on var.who (no default))" in why


@pytest.mark.parametrize(
    ("statement", "unknown"),
    [
        # known to name a specific principal: whatever its actions are, it is not public
        ({**PUBLIC_READ, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}, {"Action": "var.actions"}),
        # a Deny opens nothing
        ({**PUBLIC_READ, "Effect": "Deny"}, {"Action": "var.actions"}),
        # known to grant only another service's actions
        ({**PUBLIC_READ, "Action": "sqs:SendMessage"}, {"Resource": "var.queue"}),
        # a known condition that pins the caller
        ({**PUBLIC_READ, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}, {"Action": "var.x"}),
    ],
)
def test_statements_ruled_out_by_their_known_parts_leave_no_doubt(
    statement: dict[str, Any], unknown: dict[str, str]
) -> None:
    doc = document((statement, unknown))
    assert public_doubt(doc, public_grants(doc), action_filter=["s3:*"]) is None


def test_a_known_public_grant_is_undecided_only_when_an_unknown_deny_could_cancel_it() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*"}
    open_ = document((PUBLIC_READ, {}), (deny, {"Condition": "var.vpce"}))
    assert public_grants(open_) and public_doubt(open_, public_grants(open_), action_filter=["s3:*"])
    other = {**deny, "Action": "sqs:*"}
    still_open = document((PUBLIC_READ, {}), (other, {"Resource": "var.queue"}))
    assert public_doubt(still_open, public_grants(still_open), action_filter=["s3:*"]) is None


def test_admin_access_with_unknown_resources() -> None:
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "x"}
    assert admin_doubt(document((read, {"Resource": "var.arn"})), []) is None  # not admin whatever the ARN
    star = {"Effect": "Allow", "Action": "*", "Resource": "x"}
    doc = document((star, {"Resource": "var.arn"}))
    assert admin_statements(doc) == [] and admin_doubt(doc, []) is not None


def test_service_wildcards_with_unknown_actions() -> None:
    doc = document(({"Effect": "Allow", "Action": "x", "Resource": "*"}, {"Action": "var.actions"}))
    assert wildcards_doubt(doc, []) is not None
    known = document(
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, {"Resource": "var.arn"})
    )
    assert wildcards_doubt(known, []) is None


def test_tls_is_undecided_only_by_a_statement_that_could_be_the_deny() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    enforced = document((deny, {}), (PUBLIC_READ, WHO))
    assert tls_enforcement(enforced, BUCKET).enforced  # an unknown Allow cannot undo a Deny
    maybe = document((deny, {"Condition": "var.flag"}))
    verdict = tls_enforcement(maybe, BUCKET)
    assert not verdict.enforced and tls_doubt(maybe, verdict, "s3:*", [BUCKET, f"{BUCKET}/*"])
    unrelated = document(
        ({**deny, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}, {"Action": "x"})
    )
    verdict = tls_enforcement(unrelated, BUCKET)
    assert tls_doubt(unrelated, verdict, "s3:*", [BUCKET]) is None
    assert tls_doubt(None, TlsVerdict(enforced=False, reason=""), "s3:*", [BUCKET]) is None


def test_principals_doubt_names_an_allow_that_could_grant_the_actions() -> None:
    doc = document(({"Effect": "Allow", "Principal": "x", "Action": "kms:*", "Resource": "*"}, WHO))
    assert principals_doubt(doc, ["kms:*"]) is not None
    assert principals_doubt(doc, ["s3:GetObject"]) is None
