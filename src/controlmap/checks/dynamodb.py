"""DynamoDB and DAX checks (DDB-01 … DDB-06).

DDB-03 reads the IAM inventory (roles, users and groups with their policy documents, filled
by the IAM collector or a template) and table resource policies; DDB-04 reads the VPCs and
their endpoints from the EC2 inventory; DDB-06 reads the DAX clusters' security groups from it.
"""

from __future__ import annotations

from controlmap.checks.ec2 import describe_exposures, possible_world_exposures, world_exposures
from controlmap.checks.policy import (
    PolicyDocument,
    Statement,
    TlsVerdict,
    could_be,
    doubt,
    public_doubt,
    public_grants,
    tls_doubt,
)
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    check,
    failed,
    need,
    not_applicable,
    passed,
    unknown,
)
from controlmap.resources.dynamodb import DaxCluster, DynamoDbTable
from controlmap.resources.ec2 import SecurityGroup, Vpc
from controlmap.resources.iam import IamGroup, IamRole, IamUser, _Principal

# ---- DDB-01: encryption at rest ------------------------------------------------------------------


@check(
    "dynamodb_table_encrypted_cmk",
    DynamoDbTable,
    title="The table is encrypted with a customer managed KMS key",
    facts=("encryption",),
)
def encrypted_cmk(table: DynamoDbTable, ctx: CheckContext) -> Outcome:
    encryption = need(table, "encryption")
    evidence = {"owner": encryption.owner, "kms_key": encryption.kms_key_arn}
    if encryption.owner == "CUSTOMER":
        if encryption.status and encryption.status not in ("ENABLED", "UPDATING"):
            return failed(
                f"the customer managed key {encryption.kms_key_arn} is {encryption.status}: the table is "
                "inaccessible "
                "until the key is enabled",
                **evidence,
            )
        return passed(f"encrypted with customer managed key {encryption.kms_key_arn}", **evidence)
    if encryption.owner == "AWS_MANAGED":
        return failed(
            "encrypted with the AWS managed key alias/aws/dynamodb: its key policy cannot be changed, so "
            "access to the "
            "key cannot be restricted or revoked; switch the table to a customer managed key",
            **evidence,
        )
    if encryption.owner == "AWS_OWNED":
        return failed(
            "encrypted with the default AWS owned key (invisible in the account, no key policy, no "
            "CloudTrail record "
            "of its use); switch the table to a customer managed key",
            **evidence,
        )
    return unknown(
        f"the table uses KMS key {encryption.kms_key_arn}, but whether AWS or the customer manages it is "
        "not known",
        **evidence,
    )


# ---- DDB-02: transport ---------------------------------------------------------------------------


def _denies_insecure_transport(statement: Statement, table_arn: str) -> bool:
    if not statement.is_deny or statement.not_principal is not None:
        return False
    if statement.principal is None or not statement.principal.everyone:
        return False
    if not statement.covers_action("dynamodb:*"):
        return False
    if not statement.covers_resource(table_arn):
        return False
    secure = [c for c in statement.conditions if c.key_lower == "aws:securetransport"]
    others = [c for c in statement.conditions if c.key_lower != "aws:securetransport"]
    return not others and any(
        c.base_operator.lower() == "bool" and c.values and all(v.strip().lower() == "false" for v in c.values)
        for c in secure
    )


@check(
    "dynamodb_table_policy_denies_insecure_transport",
    DynamoDbTable,
    title="The table's resource policy denies requests without TLS",
    facts=("resource_policy",),
)
def secure_transport(table: DynamoDbTable, ctx: CheckContext) -> Outcome:
    document = need(table, "resource_policy")
    note = (
        " DynamoDB's regional endpoints also accept plain HTTP, and clients choose the protocol; a deny on "
        "aws:SecureTransport false is the only control the table itself can enforce"
    )
    if document.is_empty:
        return failed(
            "the table has no resource policy; add a statement denying dynamodb:* to Principal * when "
            "aws:SecureTransport is false." + note
        )
    for statement in document.denies():
        if _denies_insecure_transport(statement, table.id):
            return passed(f"{statement.label} denies every DynamoDB action when aws:SecureTransport is false")
    undecided = tls_doubt(document, TlsVerdict(enforced=False, reason=""), "dynamodb:*", [table.id])
    if undecided:
        return unknown(f"whether the resource policy denies requests without TLS depends on {undecided}")
    return failed(
        "no statement of the table's resource policy denies dynamodb:* to Principal * when "
        "aws:SecureTransport is "
        "false (without other conditions)." + note
    )


# ---- DDB-03: wildcard grants ---------------------------------------------------------------------


def _dynamodb_wildcards(label: str, document: PolicyDocument) -> list[str]:
    """Wildcard grants of the known statements (see ``_wildcards_doubt`` for the others)."""
    problems = []
    for statement in document.allows():
        if statement.not_actions is not None:
            if statement.covers_action("dynamodb:PutItem"):
                problems.append(
                    f"{label} {statement.label} allows every action except {', '.join(statement.not_actions)}"
                )
            continue
        wild_actions = [
            a for a in statement.actions if a.strip() in ("*", "*:*") or a.strip().lower() == "dynamodb:*"
        ]
        if wild_actions:
            problems.append(f"{label} {statement.label} allows {', '.join(wild_actions)}")
            continue
        # List*/Describe* read metadata (ListTables, DescribeLimits need "*"); item and table
        # actions on every table are what this control is about.
        dynamo = [
            a
            for a in statement.actions
            if a.lower().startswith("dynamodb:")
            and not a.lower().startswith(("dynamodb:list", "dynamodb:describe"))
        ]
        if not dynamo:
            continue
        broad = [
            r
            for r in statement.resources
            if r.strip() == "*" or (r.split(":")[2:3] == ["dynamodb"] and r.endswith(":table/*"))
        ]
        if statement.not_resources is not None or broad:
            shown = ", ".join(dynamo[:4]) + (f" and {len(dynamo) - 4} more" if len(dynamo) > 4 else "")
            where = ", ".join(broad) or "NotResource"
            problems.append(f"{label} {statement.label} allows {shown} on {where}")
    return problems


def _wildcards_doubt(document: PolicyDocument) -> str | None:
    """An undecided statement that could be a wildcard grant: ``dynamodb:*`` (on any resource),
    or DynamoDB actions on every table."""
    return doubt(
        [
            s
            for s in document.undecided()
            if (
                could_be(s, "Allow", actions=["dynamodb:PutItem"])
                and ({"Action", "NotAction"} & s.unknown.keys() or s.not_actions is not None)
            )
            or could_be(s, "Allow", actions=["dynamodb:PutItem"], resources=["*"])
        ]
    )


def _principal_wildcards(principal: _Principal) -> Outcome:
    if isinstance(principal, IamRole) and principal.service_linked:
        return not_applicable("service-linked role: AWS defines its policies")
    if principal.inline_policies is None and principal.attached_policies is None:
        need(principal, "inline_policies")
    problems: list[str] = []
    unseen: list[str] = []
    for label, document in principal.policy_documents():
        if document is None:
            unseen.append(label)
            continue
        problems += _dynamodb_wildcards(label, document)
        undecided = _wildcards_doubt(document)
        if undecided:
            unseen.append(f"{label} ({undecided})")
    if problems:
        return failed(
            "; ".join(problems[:6])
            + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
            + "; grant the specific DynamoDB actions on specific table ARNs",
            problems=problems,
        )
    if unseen:
        return unknown(
            f"no wildcard DynamoDB grant in the policies read; {', '.join(unseen)} could not be read"
        )
    return passed("no wildcard DynamoDB actions or table resources in its policies")


@check(
    "dynamodb_iam_role_no_wildcard_grants",
    IamRole,
    title="IAM role grants no wildcard DynamoDB actions or resources",
    facts=("inline_policies", "attached_policies"),
)
def role_wildcards(role: IamRole, ctx: CheckContext) -> Outcome:
    return _principal_wildcards(role)


@check(
    "dynamodb_iam_user_no_wildcard_grants",
    IamUser,
    title="IAM user grants no wildcard DynamoDB actions or resources",
    facts=("inline_policies", "attached_policies"),
)
def user_wildcards(user: IamUser, ctx: CheckContext) -> Outcome:
    return _principal_wildcards(user)


@check(
    "dynamodb_iam_group_no_wildcard_grants",
    IamGroup,
    title="IAM group grants no wildcard DynamoDB actions or resources",
    facts=("inline_policies", "attached_policies"),
)
def group_wildcards(group: IamGroup, ctx: CheckContext) -> Outcome:
    return _principal_wildcards(group)


@check(
    "dynamodb_table_policy_no_public_access",
    DynamoDbTable,
    title="The table's resource policy grants nothing to everyone",
    facts=("resource_policy",),
)
def table_policy_public(table: DynamoDbTable, ctx: CheckContext) -> Outcome:
    document = need(table, "resource_policy")
    if document.is_empty:
        return passed("the table has no resource policy")
    grants = public_grants(document, action_filter=["dynamodb:*"])
    undecided = public_doubt(document, grants, action_filter=["dynamodb:*"])
    if undecided:
        return unknown(f"whether the resource policy grants access to everyone depends on {undecided}")
    if grants:
        return failed(
            "; ".join(g.describe() for g in grants) + " with no condition restricting the caller",
            grants=[g.evidence() for g in grants],
        )
    return passed("no statement of the table's resource policy grants access to everyone")


# ---- DDB-04: gateway endpoint --------------------------------------------------------------------

_DEAD_ENDPOINT_STATES = {"deleted", "deleting", "failed", "rejected", "expired"}


@check(
    "dynamodb_vpc_endpoint_present",
    Vpc,
    title="Every VPC in use has a DynamoDB endpoint",
    facts=("endpoints", "interface_count"),
)
def vpc_endpoint(vpc: Vpc, ctx: CheckContext) -> Outcome:
    count = need(vpc, "interface_count")
    if count == 0:
        return not_applicable("the VPC has no network interfaces (not in use)")
    live = [
        e
        for e in need(vpc, "endpoints")
        if e.short_service == "dynamodb" and (e.state or "").lower() not in _DEAD_ENDPOINT_STATES
    ]
    gateway = [e for e in live if e.endpoint_type.lower() == "gateway"]
    if gateway:
        return passed(
            f"gateway endpoint {gateway[0].endpoint_id} for DynamoDB", endpoint=gateway[0].endpoint_id
        )
    if live:
        return passed(
            f"interface endpoint {live[0].endpoint_id} for DynamoDB (a gateway endpoint is free and serves "
            "the VPC's "
            "route tables)",
            endpoint=live[0].endpoint_id,
        )
    return failed(
        f"the VPC ({count} network interfaces) has no DynamoDB endpoint, so DynamoDB traffic leaves through "
        "a NAT or "
        "internet gateway; create a gateway endpoint (com.amazonaws.<region>.dynamodb) on its route tables"
    )


# ---- DDB-05: point-in-time recovery --------------------------------------------------------------


@check(
    "dynamodb_table_pitr_enabled",
    DynamoDbTable,
    title="Point-in-time recovery is enabled",
    facts=("point_in_time_recovery",),
)
def pitr(table: DynamoDbTable, ctx: CheckContext) -> Outcome:
    if need(table, "point_in_time_recovery"):
        return passed("point-in-time recovery is enabled")
    return failed(
        "point-in-time recovery is disabled; enable continuous backups (PointInTimeRecoveryEnabled)"
    )


# ---- DDB-06: DAX -----------------------------------------------------------------------------------

DAX_PORTS = (8111, 9111)


@check(
    "dax_cluster_encrypted_at_rest",
    DaxCluster,
    title="DAX cluster is encrypted at rest",
    facts=("encrypted_at_rest",),
)
def dax_at_rest(cluster: DaxCluster, ctx: CheckContext) -> Outcome:
    if need(cluster, "encrypted_at_rest"):
        return passed("server-side encryption is enabled (SSEDescription ENABLED)")
    return failed(
        "server-side encryption is off; it can only be set when the cluster is created: create a new "
        "cluster with "
        "SSESpecification Enabled and move clients to it"
    )


@check(
    "dax_cluster_encrypted_in_transit",
    DaxCluster,
    title="DAX cluster endpoint requires TLS",
    facts=("endpoint_encryption",),
)
def dax_in_transit(cluster: DaxCluster, ctx: CheckContext) -> Outcome:
    mode = need(cluster, "endpoint_encryption")
    if mode == "TLS":
        return passed("ClusterEndpointEncryptionType is TLS")
    return failed(
        f"ClusterEndpointEncryptionType is {mode}: clients talk to the cluster in plain text; it can only "
        "be set at "
        "creation: create a new cluster with TLS and move clients to it"
    )


@check(
    "dax_cluster_security_groups_restricted",
    DaxCluster,
    title="DAX cluster security groups do not admit the world",
    uses=[SecurityGroup],
    facts=("security_group_ids", "ingress"),
)
def dax_groups(cluster: DaxCluster, ctx: CheckContext) -> Outcome:
    group_ids = need(cluster, "security_group_ids")
    problems = []
    missing = []
    maybe: list[str] = []
    for group_id in group_ids:
        group = next(
            (
                g
                for g in ctx.inventory.of_type(SecurityGroup, region=cluster.region)
                if g.group_id == group_id
            ),
            None,
        )
        if group is None or group.ingress is None:
            missing.append(group_id)
            continue
        found = world_exposures(group.ingress, DAX_PORTS)
        if found:
            problems.append(f"{group_id}: {describe_exposures(found)}")
        maybe += [f"{group_id}: {text}" for text in possible_world_exposures(group.ingress, DAX_PORTS)]
    if problems:
        return failed(
            "security groups admit the whole internet to the DAX ports: "
            + "; ".join(problems)
            + "; admit only the application tier's security groups",
            security_groups=group_ids,
        )
    if maybe:
        return unknown(
            "no known rule admits the world to ports 8111/9111, but rule(s) with unknown parts could: "
            + "; ".join(maybe),
            security_groups=group_ids,
        )
    if missing:
        return unknown(
            f"security groups {', '.join(missing)} were not in the scanned inventory",
            security_groups=group_ids,
        )
    return passed(
        f"none of the {len(group_ids)} security groups admits the world to ports 8111/9111",
        security_groups=group_ids,
    )
