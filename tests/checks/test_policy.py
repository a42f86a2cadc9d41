"""The shared policy analysis: parsing, matching, public grants, admin, wildcards, TLS-only."""

from __future__ import annotations

import json

import pytest

from controlmap.checks.policy import (
    READ,
    WRITE,
    PolicyDocument,
    PolicyParseError,
    access_levels,
    action_matches,
    admin_statements,
    parse_policy,
    principals_granted,
    public_grants,
    service_wildcards,
    tls_enforcement,
)

BUCKET = "arn:aws:s3:::demo"


def doc(*statements: dict) -> PolicyDocument:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def allow_all(**extra: object) -> dict:
    return {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*", **extra}


# ---- parsing ---------------------------------------------------------------------------------


def test_parses_text_and_single_statement_object() -> None:
    text = json.dumps(
        {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}}
    )
    parsed = parse_policy(text)
    assert len(parsed.statements) == 1
    st = parsed.statements[0]
    assert st.principal is not None and st.principal.everyone
    assert st.actions == ("s3:*",)
    assert st.index == 1


def test_parses_lists_and_case_insensitive_keys_and_effect() -> None:
    parsed = parse_policy(
        {
            "statement": [
                {
                    "effect": "deny",
                    "principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
                    "action": ["s3:Put*"],
                }
            ]
        }
    )
    st = parsed.statements[0]
    assert st.is_deny
    assert st.principal is not None and not st.principal.everyone
    assert st.principal.identifiers() == ["arn:aws:iam::111122223333:root"]


def test_empty_inputs_give_empty_document() -> None:
    assert parse_policy(None).is_empty
    assert parse_policy("").is_empty
    assert parse_policy({}).is_empty


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "not valid JSON"),
        ({"Statement": "oops"}, "Statement must be"),
        ({"Statement": ["x"]}, "statement 1 is not an object"),
        ({"Statement": [{"Effect": "Maybe"}]}, "Effect 'Maybe'"),
        ({"Statement": [{"Effect": "Allow", "Condition": []}]}, "Condition that is not an object"),
    ],
)
def test_bad_documents_raise_clear_errors(bad: object, message: str) -> None:
    with pytest.raises(PolicyParseError, match=message):
        parse_policy(bad)


def test_boolean_and_expression_values_become_text() -> None:
    parsed = doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [{"Fn::Sub": "${Bucket.Arn}"}],
            "Condition": {"Bool": {"aws:SecureTransport": False}},
        }
    )
    st = parsed.statements[0]
    assert st.conditions[0].values == ("false",)
    assert st.resources[0].startswith("{")


def test_model_field_accepts_raw_json() -> None:
    parsed = PolicyDocument.model_validate(
        '{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
    )
    assert parsed.statements[0].actions == ("*",)


# ---- matching --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, action, expected",
    [
        ("*", "s3:GetObject", True),
        ("s3:*", "s3:GetObject", True),
        ("S3:get*", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:GetObject?", "s3:GetObjectX", True),
        ("s3:*", "s3:Get*", True),
        ("s3:Get*", "s3:*", False),
        ("kms:*", "s3:GetObject", False),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    "action, levels",
    [
        ("s3:GetObject", {READ}),
        ("s3:ListBucket", {READ}),
        ("s3:PutObject", {WRITE}),
        ("s3:Get*", {READ}),
        ("s3:*", {READ, WRITE}),
        ("*", {READ, WRITE}),
        ("s3:G*", {READ, WRITE}),
        ("s3:Put*", {WRITE}),
        ("dynamodb:Query", {READ}),
    ],
)
def test_access_levels(action: str, levels: set[str]) -> None:
    assert access_levels(action) == levels


# ---- public grants ---------------------------------------------------------------------------


def test_principal_star_without_condition_is_public_read() -> None:
    grants = public_grants(doc(allow_all()))
    assert len(grants) == 1
    assert grants[0].levels == {READ}
    assert "statement 1 grants s3:GetObject to Principal *" in grants[0].describe()


def test_aws_star_principal_is_public() -> None:
    assert public_grants(doc(allow_all(Principal={"AWS": "*"})))
    assert public_grants(doc(allow_all(Principal={"AWS": ["arn:aws:iam::1:root", "*"]})))


def test_specific_principal_is_not_public() -> None:
    assert not public_grants(doc(allow_all(Principal={"AWS": "arn:aws:iam::111122223333:root"})))
    assert not public_grants(doc(allow_all(Principal={"Service": "cloudtrail.amazonaws.com"})))


def test_not_principal_with_allow_is_public() -> None:
    statement = allow_all()
    del statement["Principal"]
    statement["NotPrincipal"] = {"AWS": "arn:aws:iam::111122223333:root"}
    grants = public_grants(doc(statement))
    assert grants and "NotPrincipal" in grants[0].describe()


def test_not_principal_allow_of_getobject_is_public_unless_an_unconditional_deny_covers_it() -> None:
    allow = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
    }
    grants = public_grants(doc(allow), action_filter=["s3:*"])
    assert [g.actions for g in grants] == [("s3:GetObject",)]
    # An explicit Deny of the same action to everyone wins over any Allow: nobody can read.
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}
    assert not public_grants(doc(deny, allow), action_filter=["s3:*"])


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        {"StringEquals": {"aws:SourceVpc": "vpc-111"}},
        {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/*"}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc/r-ab/ou-1/*"}},
        {"StringEquals": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}},
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Reader"}},
        {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.7/32"]}},
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "2001:db8::/32"]}},  # half of IPv4: not everyone
        {"StringLike": {"aws:userid": "AROAEXAMPLE:*"}},
        {"StringLike": {"aws:SourceVpce": "vpce-1a2b3c4d"}},  # Like without a wildcard is fixed
        {"StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads"}},  # bucket names are global
        {"STRINGEQUALS": {"AWS:SOURCEVPCE": "vpce-1"}},
        {"StringEquals": {"kms:CallerAccount": "111122223333"}},
        {"Bool": {"aws:PrincipalIsAWSService": "true"}},
    ],
)
def test_restricting_conditions_make_it_not_public(condition: dict) -> None:
    assert not public_grants(doc(allow_all(Condition=condition)))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}},  # everyone *except* that endpoint
        {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},  # absent for internet callers
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgPaths": "o-a/r-b/*"}},  # true for an empty set
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::/0"]}},
        # Ranges that add up to every address are 0.0.0.0/0 (or ::/0) written another way.
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/8"]}},
        {"IpAddress": {"aws:SourceIp": ["::/1", "8000::/1"]}},
        {"StringLike": {"aws:PrincipalAccount": "*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Reader"}},
        {"StringEquals": {"aws:PrincipalTag/team": "data"}},  # anyone can tag their own principal
        {"Bool": {"aws:SecureTransport": "true"}},  # transport, not identity
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"StringEquals": {"aws:SourceVpce": []}},
        # aws:SourceIp is absent from requests through a VPC endpoint (of any account).
        {"IpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}},
        # Wildcards in identifiers admit anyone's endpoints, accounts and organizations.
        {"StringLike": {"aws:SourceVpce": "vpce-*"}},
        {"StringLike": {"aws:SourceVpc": "vpc-?????"}},
        {"StringLike": {"aws:PrincipalAccount": "1111*"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringLike": {"kms:CallerAccount": "*1"}},
        {"StringLike": {"aws:PrincipalOrgPaths": "o-*/r-ab12/*"}},
        {"StringLike": {"aws:userid": "AROA*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::uploads-*"}},  # anyone can create uploads-x
        # A policy variable is not a fixed value.
        {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
        # A user name, or a private address behind a VPC endpoint, exists in every account.
        {"StringEquals": {"aws:username": "alice"}},
        {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}},
        {"StringEquals": {"aws:UserAgent": "internal-client"}},
        {"StringLike": {"aws:Referer": "https://example.com/*"}},
    ],
)
def test_non_restricting_conditions_leave_it_public(condition: dict) -> None:
    assert public_grants(doc(allow_all(Condition=condition)))


def test_one_restricting_condition_among_others_is_enough() -> None:
    condition = {"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}}
    assert not public_grants(doc(allow_all(Condition=condition)))


def test_unconditional_deny_cancels_public_allow() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*"}
    assert not public_grants(doc(allow_all(), deny))


def test_conditional_or_narrower_deny_does_not_cancel() -> None:
    deny_cond = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"{BUCKET}/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert public_grants(doc(allow_all(), deny_cond))
    deny_other_action = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}
    assert public_grants(doc(allow_all(), deny_other_action))
    deny_few = {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*", "Resource": "*"}
    assert public_grants(doc(allow_all(), deny_few))
    deny_other_resource = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "arn:aws:s3:::other/*",
    }
    assert public_grants(doc(allow_all(), deny_other_resource))


def fence(condition: dict | None = None, **extra: object) -> dict:
    """A Deny to everyone of every S3 action on the bucket and its objects, unless ..."""
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, f"{BUCKET}/*"]}
    if condition is not None:
        statement["Condition"] = condition
    return {**statement, **extra}


@pytest.mark.parametrize(
    "deny",
    [
        fence({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        fence({"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-111"}}),
        fence({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}, Action="*"),
        fence({"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        fence({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}),
        # "unless the vpce, or an AWS service": AWS service principals are not the public.
        fence(
            {
                "StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
                "Bool": {"aws:PrincipalIsAWSService": "false"},
            }
        ),
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:role/Reader"]},
            "Action": "s3:*",
            "Resource": f"{BUCKET}/*",
        },
    ],
)
def test_deny_to_everyone_else_fences_a_public_allow(deny: dict) -> None:
    """Allow * plus "Deny unless <specific caller>" is how most VPC-endpoint policies are written."""
    assert not public_grants(doc(allow_all(), deny), action_filter=["s3:*"])


@pytest.mark.parametrize(
    "deny",
    [
        fence({"StringNotLike": {"aws:SourceVpce": "vpce-*"}}),  # every endpoint of anyone
        fence({"NotIpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}),  # unless from anywhere
        fence({"StringNotEquals": {"aws:UserAgent": "internal-client"}}),  # the caller chooses it
        fence({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),  # denies the endpoint, allows the rest
        fence({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}, "Bool": {"aws:SecureTransport": "false"}}),
        fence({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, Resource=BUCKET),  # not the objects
        fence({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}, Action="s3:PutObject"),  # not GetObject
        fence({"ForAnyValue:StringNotEquals": {"aws:SourceVpce": "vpce-1"}}),
        {"Effect": "Deny", "NotPrincipal": "*", "Action": "s3:*", "Resource": f"{BUCKET}/*"},
    ],
)
def test_deny_that_does_not_fence_leaves_it_public(deny: dict) -> None:
    assert public_grants(doc(allow_all(), deny), action_filter=["s3:*"])


def test_a_fence_does_not_make_an_identity_policy_less_than_admin() -> None:
    parsed = doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        },
    )
    assert admin_statements(parsed)


def test_partial_deny_leaves_remaining_actions() -> None:
    allow = allow_all(Action=["s3:GetObject", "s3:PutObject"])
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:Put*", "Resource": "*"}
    grants = public_grants(doc(allow, deny))
    assert grants[0].actions == ("s3:GetObject",)
    assert grants[0].levels == {READ}


def test_action_filter_and_write_levels() -> None:
    allow = allow_all(Action=["s3:PutObject", "sqs:SendMessage"])
    grants = public_grants(doc(allow), action_filter=["s3:*"])
    assert grants[0].actions == ("s3:PutObject",)
    assert grants[0].levels == {WRITE}
    assert not public_grants(doc(allow_all(Action="kms:Decrypt")), action_filter=["s3:*"])


def test_public_not_action_allow_grants_read_and_write() -> None:
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteBucket", "Resource": "*"}
    grants = public_grants(doc(statement))
    assert grants[0].levels == {READ, WRITE}
    assert grants[0].actions[0].startswith("NotAction")


def test_none_document_has_no_grants() -> None:
    assert public_grants(None) == []
    assert admin_statements(None) == []
    assert service_wildcards(None) == []


# ---- admin and wildcards ---------------------------------------------------------------------


def test_admin_allow_star_on_star() -> None:
    found = admin_statements(doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assert len(found) == 1 and found[0].statement.index == 1


def test_admin_with_condition_is_still_admin() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
    assert admin_statements(doc(statement))


def test_not_admin_when_resource_is_specific_or_action_is_a_service() -> None:
    assert not admin_statements(doc({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}))
    assert not admin_statements(doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    assert not admin_statements(doc({"Effect": "Deny", "Action": "*", "Resource": "*"}))


def test_allow_not_action_on_star_is_admin_equivalent() -> None:
    found = admin_statements(
        doc({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    )
    assert found and "NotAction" in found[0].actions[0]


def test_deny_everything_cancels_admin() -> None:
    parsed = doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    )
    assert not admin_statements(parsed)


def test_service_wildcards() -> None:
    parsed = doc(
        {"Effect": "Allow", "Action": ["dynamodb:*", "s3:GetObject", "KMS:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    )
    found = service_wildcards(parsed)
    assert len(found) == 1
    assert found[0].actions == ("dynamodb:*", "KMS:*")
    assert service_wildcards(parsed, ["kms"])[0].actions == ("KMS:*",)
    assert not service_wildcards(parsed, ["lambda"])


def test_principals_granted_admin_actions() -> None:
    parsed = doc(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::1:role/Admin"]},
            "Action": ["kms:Put*"],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::1:role/App"},
            "Action": ["kms:Decrypt"],
            "Resource": "*",
        },
    )
    found = principals_granted(parsed, ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"])
    assert [p for _, p in found] == [["arn:aws:iam::1:root"], ["arn:aws:iam::1:role/Admin"]]


# ---- TLS-only ----------------------------------------------------------------------------------


def tls_deny(**extra: object) -> dict:
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        **extra,
    }


@pytest.mark.parametrize(
    "statement",
    [
        tls_deny(),
        tls_deny(Condition={"Bool": {"aws:SecureTransport": False}}),
        tls_deny(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}}),
        tls_deny(Principal={"AWS": "*"}, Action="*"),
        tls_deny(Resource=["arn:aws:s3:::demo*"]),
        tls_deny(Resource="*"),
        tls_deny(Condition={"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}}),
    ],
)
def test_tls_enforced(statement: dict) -> None:
    verdict = tls_enforcement(doc(statement), BUCKET)
    assert verdict.enforced, verdict.reason
    assert verdict.statement == 1


@pytest.mark.parametrize(
    "statement, why",
    [
        (tls_deny(Resource=f"{BUCKET}/*"), "does not cover arn:aws:s3:::demo"),
        (tls_deny(Resource=BUCKET), "does not cover arn:aws:s3:::demo/*"),
        (tls_deny(Principal={"AWS": "arn:aws:iam::1:root"}), "not for Principal *"),
        (tls_deny(Action="s3:GetObject"), "all S3 actions"),
        (tls_deny(Condition={"Bool": {"aws:SecureTransport": "true"}}), "Bool/BoolIfExists false"),
        (tls_deny(Effect="Allow"), "no bucket policy statement denies"),
        (
            tls_deny(
                Condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "StringNotEquals": {"aws:SourceVpce": "v"},
                }
            ),
            "narrowed by other condition keys",
        ),
        (tls_deny(Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}), "NumericLessThanIfExists"),
        # Conditions of one statement are ANDed: plain HTTP has SecureTransport false, so this
        # Deny matches only TLS requests below 1.2 and lets HTTP through.
        (
            tls_deny(
                Condition={
                    "NumericLessThanIfExists": {"s3:TlsVersion": "1.2"},
                    "Bool": {"aws:SecureTransport": "true"},
                }
            ),
            "Bool/BoolIfExists false",
        ),
        (tls_deny(Condition={"ForAnyValue:Bool": {"aws:SecureTransport": "false"}}), "Bool/BoolIfExists"),
    ],
)
def test_tls_not_enforced(statement: dict, why: str) -> None:
    verdict = tls_enforcement(doc(statement), BUCKET)
    assert not verdict.enforced
    assert why in verdict.reason


@pytest.mark.parametrize(
    "objects",
    [
        tls_deny(Resource=f"{BUCKET}/*"),
        tls_deny(Resource=f"{BUCKET}/*", Condition={"NumericLessThanIfExists": {"s3:TlsVersion": "1.2"}}),
    ],
)
def test_tls_enforced_by_one_statement_for_the_bucket_and_one_for_its_objects(objects: dict) -> None:
    verdict = tls_enforcement(doc(tls_deny(Resource=BUCKET), objects), BUCKET)
    assert verdict.enforced, verdict.reason
    assert verdict.reason.startswith("statement 1 and statement 2 deny") and verdict.statement == 1
    # Either one alone leaves the other uncovered.
    assert not tls_enforcement(doc(objects), BUCKET).enforced
    half = tls_enforcement(doc(tls_deny(Resource=BUCKET), tls_deny(Resource="arn:aws:s3:::other/*")), BUCKET)
    assert not half.enforced and "does not cover arn:aws:s3:::demo/*" in half.reason


def test_tls_no_policy() -> None:
    assert tls_enforcement(None, BUCKET).reason == "the bucket has no bucket policy"
    assert not tls_enforcement(parse_policy(None), BUCKET).enforced


# A Deny to everyone "unless <restricting condition>" narrows an Allow to everyone: AWS's own
# pattern for private APIs and source-IP allow lists (Allow * + Deny StringNotEquals/NotIpAddress).
NARROWING_DENIES = [
    {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
    {"StringNotEqualsIfExists": {"aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-5e6f"]}},
    {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
    {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}, "NotIpAddress": {"aws:SourceIp": "198.51.100.0/24"}},
]


@pytest.mark.parametrize("condition", NARROWING_DENIES)
def test_deny_unless_restricting_condition_narrows_a_public_allow(condition: dict) -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"{BUCKET}/*",
        "Condition": condition,
    }
    assert not public_grants(doc(allow_all(), deny))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:SourceVpce": "*"}},  # any endpoint at all
        {"NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}},  # the whole internet
        {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}, "Bool": {"aws:SecureTransport": "false"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-1"}},  # denies the endpoint, admits everyone else
        {"ForAnyValue:StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}},  # not about the caller
    ],
)
def test_deny_with_other_conditions_does_not_narrow(condition: dict) -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"{BUCKET}/*",
        "Condition": condition,
    }
    assert public_grants(doc(allow_all(), deny))


def test_narrowing_deny_must_cover_the_action_and_everyone() -> None:
    unless_vpce = {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}
    only_put = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": unless_vpce,
    }
    grants = public_grants(doc(allow_all(Action=["s3:GetObject", "s3:PutObject"]), only_put))
    assert grants and grants[0].actions == ("s3:GetObject",)
    few = {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*", "Resource": "*",
           "Condition": unless_vpce}  # fmt: skip
    assert public_grants(doc(allow_all(), few))


def test_narrowing_deny_does_not_cancel_administrator_access() -> None:
    admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}  # fmt: skip
    assert admin_statements(doc(admin, deny))  # an administrator from the office is an administrator
