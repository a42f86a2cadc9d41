"""Realistic AWS Config configuration items (shapes as AWS Config delivers them), for the tests.

Each builder returns one item in the S3 delivery-channel form (``configuration`` an object,
``supplementaryConfiguration`` values as AWS Config writes them); ``as_api_item`` turns one into
the API form (``configuration`` and supplementary values as JSON text), as batch-get-resource-config
and get-resource-config-history return it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CAPTURE = "2026-11-30T08:14:02.512Z"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c"


def item(
    resource_type: str,
    resource_id: str,
    configuration: dict[str, Any],
    *,
    name: str | None = None,
    arn: str | None = None,
    region: str = REGION,
    supplementary: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    status: str = "OK",
    capture: str = CAPTURE,
) -> dict[str, Any]:
    return {
        "configurationItemVersion": "1.3",
        "configurationItemCaptureTime": capture,
        "configurationStateId": 1701331442512,
        "awsAccountId": ACCOUNT,
        "configurationItemStatus": status,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "resourceName": name or resource_id,
        "ARN": arn,
        "awsRegion": region,
        "availabilityZone": "Not Applicable" if region == "global" else "Regional",
        "configurationStateMd5Hash": "",
        "resourceCreationTime": "2024-03-11T09:30:00.000Z",
        "tags": tags or {},
        "relatedEvents": [],
        "relationships": [],
        "configuration": configuration,
        "supplementaryConfiguration": supplementary if supplementary is not None else {},
    }


def as_api_item(delivered: dict[str, Any], *, with_tags: bool = True) -> dict[str, Any]:
    """The same item as the Config API returns it: JSON text for configuration and supplements."""
    out = {
        "version": delivered["configurationItemVersion"],
        "accountId": delivered["awsAccountId"],
        "configurationItemCaptureTime": delivered["configurationItemCaptureTime"],
        "configurationItemStatus": delivered["configurationItemStatus"],
        "configurationStateId": str(delivered["configurationStateId"]),
        "arn": delivered["ARN"],
        "resourceType": delivered["resourceType"],
        "resourceId": delivered["resourceId"],
        "resourceName": delivered["resourceName"],
        "awsRegion": delivered["awsRegion"],
        "availabilityZone": delivered["availabilityZone"],
        "resourceCreationTime": delivered["resourceCreationTime"],
        "configuration": json.dumps(delivered["configuration"]),
        "supplementaryConfiguration": {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in delivered["supplementaryConfiguration"].items()
        },
    }
    if with_tags:
        out["tags"] = delivered["tags"]
    return out


def snapshot(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "fileVersion": "1.0",
        "configSnapshotId": "6a4b1c2d-0e9f-4a1b-8c7d-5e6f7a8b9c0d",
        "configurationItems": items,
    }


# ---- S3 -----------------------------------------------------------------------------------------

OWNER = {"displayName": None, "id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}


def _acl(*grants: dict[str, Any]) -> str:
    # AWS Config writes the AccessControlList as JSON text inside the JSON document.
    return json.dumps(
        {
            "grantSet": None,
            "grantList": [{"grantee": OWNER, "permission": "FullControl"}, *grants],
            "owner": OWNER,
            "isRequesterCharged": False,
        }
    )


def bucket_compliant(name: str = "acme-prod-ledger") -> dict[str, Any]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    return item(
        "AWS::S3::Bucket",
        name,
        {"name": name, "owner": OWNER, "creationDate": "2024-03-11T09:30:00.000Z"},
        arn=f"arn:aws:s3:::{name}",
        tags={"data-classification": "confidential", "retention": "required"},
        supplementary={
            "AccessControlList": _acl(),
            "BucketAccelerateConfiguration": {"status": None},
            "BucketLoggingConfiguration": {
                "destinationBucketName": "acme-access-logs",
                "logFilePrefix": f"{name}/",
            },
            "BucketNotificationConfiguration": {"configurations": {}},
            "BucketPolicy": {"policyText": json.dumps(policy)},
            "BucketVersioningConfiguration": {"status": "Enabled", "isMfaDeleteEnabled": True},
            "IsRequesterPaysEnabled": False,
            "ObjectLockConfiguration": {
                "objectLockEnabled": "Enabled",
                "rule": {"defaultRetention": {"mode": "COMPLIANCE", "days": 365, "years": None}},
            },
            "PublicAccessBlockConfiguration": {
                "blockPublicAcls": True,
                "ignorePublicAcls": True,
                "blockPublicPolicy": True,
                "restrictPublicBuckets": True,
            },
            "ServerSideEncryptionConfiguration": {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyID": KEY_ARN,
                        },
                        "bucketKeyEnabled": True,
                    }
                ]
            },
        },
    )


def bucket_public(name: str = "acme-marketing-site") -> dict[str, Any]:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ],
    }
    return item(
        "AWS::S3::Bucket",
        name,
        {"name": name, "owner": OWNER, "creationDate": "2025-06-02T14:03:11.000Z"},
        arn=f"arn:aws:s3:::{name}",
        supplementary={
            "AccessControlList": json.dumps(
                _acl({"grantee": "AllUsers", "permission": "Read"})
            ),  # twice encoded
            "BucketAccelerateConfiguration": {"status": None},
            "BucketLoggingConfiguration": {"destinationBucketName": None, "logFilePrefix": None},
            "BucketNotificationConfiguration": {"configurations": {}},
            "BucketPolicy": {"policyText": json.dumps(policy)},
            "BucketVersioningConfiguration": {"status": "Off", "isMfaDeleteEnabled": None},
            "IsRequesterPaysEnabled": False,
            "ServerSideEncryptionConfiguration": {
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "AES256",
                            "kmsMasterKeyID": None,
                        },
                        "bucketKeyEnabled": False,
                    }
                ]
            },
        },
    )


def account_public_access_block(all_on: bool = False) -> dict[str, Any]:
    return item(
        "AWS::S3::AccountPublicAccessBlock",
        ACCOUNT,
        {
            "blockPublicAcls": True,
            "ignorePublicAcls": all_on,
            "blockPublicPolicy": all_on,
            "restrictPublicBuckets": all_on,
        },
        name="AccountPublicAccessBlock",
        arn=None,
    )


# ---- IAM ----------------------------------------------------------------------------------------

ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_S3_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::acme-prod-ledger", "arn:aws:s3:::acme-prod-ledger/*"],
        }
    ],
}


def enc(document: dict[str, Any]) -> str:
    """IAM documents as AWS Config records them: URL-encoded JSON."""
    return quote(json.dumps(document))


def iam_policy(name: str, document: dict[str, Any], policy_id: str) -> dict[str, Any]:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
    return item(
        "AWS::IAM::Policy",
        policy_id,
        {
            "policyName": name,
            "policyId": policy_id,
            "arn": arn,
            "path": "/",
            "defaultVersionId": "v2",
            "attachmentCount": 1,
            "permissionsBoundaryUsageCount": 0,
            "isAttachable": True,
            "createDate": "2024-03-11T09:30:00.000Z",
            "updateDate": "2025-01-20T11:02:00.000Z",
            "policyVersionList": [
                {
                    "document": enc(ADMIN_DOC),
                    "versionId": "v1",
                    "isDefaultVersion": False,
                    "createDate": "2024-03-11T09:30:00.000Z",
                },
                {
                    "document": enc(document),
                    "versionId": "v2",
                    "isDefaultVersion": True,
                    "createDate": "2025-01-20T11:02:00.000Z",
                },
            ],
        },
        name=name,
        arn=arn,
        region="global",
    )


def iam_user(
    name: str,
    user_id: str,
    *,
    inline: dict[str, Any] | None = None,
    attached: list[str] = (),
    groups: list[str] = (),
) -> dict[str, Any]:  # type: ignore[assignment]
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    return item(
        "AWS::IAM::User",
        user_id,
        {
            "path": "/",
            "userName": name,
            "userId": user_id,
            "arn": arn,
            "createDate": "2024-05-02T10:00:00.000Z",
            "userPolicyList": [{"policyName": "inline-admin", "policyDocument": enc(inline)}]
            if inline
            else [],
            "groupList": list(groups),
            "attachedManagedPolicies": [
                {"policyName": a.rsplit("/", 1)[-1], "policyArn": a} for a in attached
            ],
            "permissionsBoundary": None,
            "tags": [],
        },
        name=name,
        arn=arn,
        region="global",
    )


def iam_group(name: str, group_id: str, attached: list[str]) -> dict[str, Any]:
    arn = f"arn:aws:iam::{ACCOUNT}:group/{name}"
    return item(
        "AWS::IAM::Group",
        group_id,
        {
            "path": "/",
            "groupName": name,
            "groupId": group_id,
            "arn": arn,
            "createDate": "2024-05-02T10:00:00.000Z",
            "groupPolicyList": [],
            "attachedManagedPolicies": [
                {"policyName": a.rsplit("/", 1)[-1], "policyArn": a} for a in attached
            ],
        },
        name=name,
        arn=arn,
        region="global",
    )


def iam_role(
    name: str,
    role_id: str,
    *,
    path: str = "/",
    attached: list[str] = (),
    inline: dict[str, Any] | None = None,
) -> dict[str, Any]:  # type: ignore[assignment]
    arn = f"arn:aws:iam::{ACCOUNT}:role{path}{name}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return item(
        "AWS::IAM::Role",
        role_id,
        {
            "path": path,
            "roleName": name,
            "roleId": role_id,
            "arn": arn,
            "createDate": "2024-05-02T10:00:00.000Z",
            "assumeRolePolicyDocument": enc(trust),
            "instanceProfileList": [],
            "rolePolicyList": [{"policyName": "inline", "policyDocument": enc(inline)}] if inline else [],
            "attachedManagedPolicies": [
                {"policyName": a.rsplit("/", 1)[-1], "policyArn": a} for a in attached
            ],
            "permissionsBoundary": None,
            "tags": [],
            "roleLastUsed": {"lastUsedDate": "2026-11-29T22:10:00.000Z", "region": REGION},
        },
        name=name,
        arn=arn,
        region="global",
    )


# ---- CloudTrail, KMS ---------------------------------------------------------------------------


def trail(
    name: str, *, multi_region: bool, validation: bool, kms: bool, custom_selectors: bool
) -> dict[str, Any]:
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"
    return item(
        "AWS::CloudTrail::Trail",
        name,
        {
            "name": name,
            "s3BucketName": "acme-cloudtrail-logs",
            "s3KeyPrefix": None,
            "snsTopicName": None,
            "snsTopicARN": None,
            "includeGlobalServiceEvents": True,
            "isMultiRegionTrail": multi_region,
            "homeRegion": REGION,
            "trailARN": arn,
            "logFileValidationEnabled": validation,
            "cloudWatchLogsLogGroupArn": None,
            "cloudWatchLogsRoleArn": None,
            "kmsKeyId": KEY_ARN if kms else None,
            "hasCustomEventSelectors": custom_selectors,
            "hasInsightSelectors": False,
            "isOrganizationTrail": False,
        },
        arn=arn,
    )


def kms_key(
    key_id: str,
    *,
    manager: str = "CUSTOMER",
    rotation: bool | None = True,
    state: str = "Enabled",
    origin: str = "AWS_KMS",
) -> dict[str, Any]:
    arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}"
    supplementary = {} if rotation is None else {"KeyRotationStatus": "true" if rotation else "false"}
    return item(
        "AWS::KMS::Key",
        key_id,
        {
            "awsaccountId": ACCOUNT,
            "keyId": key_id,
            "arn": arn,
            "creationDate": "2024-03-11T09:30:00.000Z",
            "enabled": state == "Enabled",
            "description": "",
            "keyUsage": "ENCRYPT_DECRYPT",
            "keyState": state,
            "origin": origin,
            "keyManager": manager,
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "keySpec": "SYMMETRIC_DEFAULT",
            "encryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "multiRegion": False,
            "deletionDate": "2026-12-10T00:00:00.000Z" if state == "PendingDeletion" else None,
        },
        arn=arn,
        supplementary=supplementary,
    )


# ---- EC2 / VPC ---------------------------------------------------------------------------------

VPC_ID = "vpc-0a1b2c3d4e5f60718"


def _ec2_arn(kind: str, ident: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{ident}"


def security_group(group_id: str, name: str, ingress: list[dict[str, Any]]) -> dict[str, Any]:
    return item(
        "AWS::EC2::SecurityGroup",
        group_id,
        {
            "ownerId": ACCOUNT,
            "groupName": name,
            "groupId": group_id,
            "description": f"{name} security group",
            "ipPermissions": ingress,
            "ipPermissionsEgress": [
                {
                    "ipProtocol": "-1",
                    "ipv6Ranges": [],
                    "prefixListIds": [],
                    "userIdGroupPairs": [],
                    "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
                    "ipRanges": ["0.0.0.0/0"],
                }
            ],
            "vpcId": VPC_ID,
            "tags": [],
        },
        name=name,
        arn=_ec2_arn("security-group", group_id),
    )


def ssh_from_world() -> dict[str, Any]:
    return {
        "fromPort": 22,
        "ipProtocol": "tcp",
        "ipv6Ranges": [],
        "prefixListIds": [],
        "toPort": 22,
        "userIdGroupPairs": [],
        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0", "description": "ops"}],
        "ipRanges": ["0.0.0.0/0"],
    }


def https_from_world() -> dict[str, Any]:
    return {
        "fromPort": 443,
        "ipProtocol": "tcp",
        "ipv6Ranges": [{"cidrIpv6": "::/0"}],
        "prefixListIds": [],
        "toPort": 443,
        "userIdGroupPairs": [],
        "ipv4Ranges": [{"cidrIp": "0.0.0.0/0"}],
        "ipRanges": ["0.0.0.0/0"],
    }


def network_acl(acl_id: str, entries: list[dict[str, Any]], *, default: bool = False) -> dict[str, Any]:
    return item(
        "AWS::EC2::NetworkAcl",
        acl_id,
        {
            "associations": [
                {
                    "networkAclAssociationId": "aclassoc-0f1e2d3c",
                    "networkAclId": acl_id,
                    "subnetId": "subnet-0c1d2e3f4a5b6c7d8",
                }
            ],
            "entries": entries,
            "isDefault": default,
            "networkAclId": acl_id,
            "tags": [],
            "vpcId": VPC_ID,
            "ownerId": ACCOUNT,
        },
        arn=_ec2_arn("network-acl", acl_id),
    )


def nacl_entry(
    number: int,
    action: str,
    cidr: str,
    protocol: str = "-1",
    ports: tuple[int, int] | None = None,
    egress: bool = False,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "cidrBlock": cidr,
        "egress": egress,
        "protocol": protocol,
        "ruleAction": action,
        "ruleNumber": number,
    }
    if ports:
        entry["portRange"] = {"from": ports[0], "to": ports[1]}
    return entry


def vpc(vpc_id: str = VPC_ID) -> dict[str, Any]:
    return item(
        "AWS::EC2::VPC",
        vpc_id,
        {
            "cidrBlock": "10.20.0.0/16",
            "dhcpOptionsId": "dopt-0b1c2d3e",
            "state": "available",
            "vpcId": vpc_id,
            "ownerId": ACCOUNT,
            "instanceTenancy": "default",
            "ipv6CidrBlockAssociationSet": [],
            "cidrBlockAssociationSet": [
                {
                    "associationId": "vpc-cidr-assoc-0a1b2c3d",
                    "cidrBlock": "10.20.0.0/16",
                    "cidrBlockState": {"state": "associated"},
                }
            ],
            "isDefault": False,
            "tags": [{"key": "Name", "value": "prod"}],
        },
        arn=_ec2_arn("vpc", vpc_id),
        tags={"Name": "prod"},
    )


def flow_log(flow_log_id: str, vpc_id: str = VPC_ID) -> dict[str, Any]:
    return item(
        "AWS::EC2::FlowLog",
        flow_log_id,
        {
            "creationTime": "2024-03-11T09:30:00.000Z",
            "deliverLogsStatus": "SUCCESS",
            "flowLogId": flow_log_id,
            "flowLogStatus": "ACTIVE",
            "logDestination": "arn:aws:s3:::acme-flow-logs",
            "logDestinationType": "s3",
            "resourceId": vpc_id,
            "trafficType": "ALL",
            "maxAggregationInterval": 600,
        },
        arn=_ec2_arn("vpc-flow-log", flow_log_id),
    )


def vpc_endpoint(endpoint_id: str, service: str, kind: str = "Gateway") -> dict[str, Any]:
    return item(
        "AWS::EC2::VPCEndpoint",
        endpoint_id,
        {
            "vpcEndpointId": endpoint_id,
            "vpcEndpointType": kind,
            "vpcId": VPC_ID,
            "serviceName": f"com.amazonaws.{REGION}.{service}",
            "state": {"value": "available"},
            "routeTableIds": ["rtb-0a9b8c7d6e5f4a3b2"],
            "subnetIds": [],
            "groups": [],
            "privateDnsEnabled": False,
            "requesterManaged": False,
            "networkInterfaceIds": [],
            "dnsEntries": [],
            "creationTimestamp": "2024-03-11T09:30:00.000Z",
            "ownerId": ACCOUNT,
        },
        arn=_ec2_arn("vpc-endpoint", endpoint_id),
    )


def network_interface(eni_id: str, group_id: str, instance_id: str | None) -> dict[str, Any]:
    return item(
        "AWS::EC2::NetworkInterface",
        eni_id,
        {
            "networkInterfaceId": eni_id,
            "vpcId": VPC_ID,
            "subnetId": "subnet-0c1d2e3f4a5b6c7d8",
            "interfaceType": "interface",
            "description": "",
            "ownerId": ACCOUNT,
            "requesterManaged": False,
            "groups": [{"groupName": "web", "groupId": group_id}],
            "attachment": {
                "attachmentId": "eni-attach-0d1e2f3a",
                "instanceId": instance_id,
                "deviceIndex": 0,
                "status": "attached",
            }
            if instance_id
            else None,
            "association": {"publicIp": "203.0.113.25", "ipOwnerId": "amazon"},
        },
        arn=_ec2_arn("network-interface", eni_id),
    )


def instance(
    instance_id: str,
    *,
    tokens: str,
    state: str = "running",
    group_id: str = "sg-0123456789abcdef0",
    eni_id: str = "eni-0a1b2c3d4e5f60718",
) -> dict[str, Any]:
    return item(
        "AWS::EC2::Instance",
        instance_id,
        {
            "amiLaunchIndex": 0,
            "imageId": "ami-0c1bea58988a989155",
            "instanceId": instance_id,
            "instanceType": "t3.medium",
            "keyName": "ops-2024",
            "launchTime": "2026-10-01T07:12:44.000Z",
            "monitoring": {"state": "disabled"},
            "placement": {"availabilityZone": f"{REGION}a", "tenancy": "default"},
            "privateIpAddress": "10.20.1.15",
            "publicIpAddress": "203.0.113.25",
            "state": {"code": 16 if state == "running" else 80, "name": state},
            "subnetId": "subnet-0c1d2e3f4a5b6c7d8",
            "vpcId": VPC_ID,
            "architecture": "x86_64",
            "iamInstanceProfile": {
                "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/app",
                "id": "AIPAEXAMPLE12345",
            },
            "networkInterfaces": [
                {"networkInterfaceId": eni_id, "groups": [{"groupName": "web", "groupId": group_id}]}
            ],
            "securityGroups": [{"groupName": "web", "groupId": group_id}],
            "metadataOptions": {
                "state": "applied",
                "httpTokens": tokens,
                "httpPutResponseHopLimit": 2,
                "httpEndpoint": "enabled",
            },
            "tags": [{"key": "Name", "value": f"app-{instance_id[-4:]}"}],
        },
        arn=_ec2_arn("instance", instance_id),
        tags={"Name": f"app-{instance_id[-4:]}"},
    )


def volume(volume_id: str, *, encrypted: bool) -> dict[str, Any]:
    return item(
        "AWS::EC2::Volume",
        volume_id,
        {
            "attachments": [
                {
                    "attachTime": "2026-10-01T07:12:45.000Z",
                    "device": "/dev/xvda",
                    "instanceId": "i-0abc1234def567890",
                    "state": "attached",
                    "volumeId": volume_id,
                    "deleteOnTermination": True,
                }
            ],
            "availabilityZone": f"{REGION}a",
            "createTime": "2026-10-01T07:12:44.000Z",
            "encrypted": encrypted,
            "kmsKeyId": KEY_ARN if encrypted else None,
            "size": 30,
            "snapshotId": "",
            "state": "in-use",
            "volumeId": volume_id,
            "iops": 3000,
            "volumeType": "gp3",
        },
        arn=_ec2_arn("volume", volume_id),
    )


# ---- RDS -----------------------------------------------------------------------------------------


def db_instance(
    identifier: str,
    *,
    public: bool,
    encrypted: bool,
    backup_days: int,
    engine: str = "postgres",
    version: str = "16.3",
) -> dict[str, Any]:
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:{identifier}"
    return item(
        "AWS::RDS::DBInstance",
        "db-ABCDEFGHIJKLMNOPQRSTUVWXY1" if identifier.endswith("1") else "db-ZYXWVUTSRQPONMLKJIHGFEDCB2",
        {
            "dBInstanceIdentifier": identifier,
            "dBInstanceClass": "db.t4g.medium",
            "engine": engine,
            "dBInstanceStatus": "available",
            "masterUsername": "dbadmin",
            "endpoint": {
                "address": f"{identifier}.cxyz.{REGION}.rds.amazonaws.com",
                "port": 5432,
                "hostedZoneId": "Z29XKXDKYMONMX",
            },
            "allocatedStorage": 100,
            "instanceCreateTime": "2024-03-11T09:30:00.000Z",
            "backupRetentionPeriod": backup_days,
            "vpcSecurityGroups": [{"vpcSecurityGroupId": "sg-0fedcba9876543210", "status": "active"}],
            "dBParameterGroups": [
                {"dBParameterGroupName": "prod-postgres16", "parameterApplyStatus": "in-sync"}
            ],
            "multiAZ": True,
            "engineVersion": version,
            "publiclyAccessible": public,
            "storageEncrypted": encrypted,
            "kmsKeyId": KEY_ARN if encrypted else None,
            "dbiResourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXY1",
            "iAMDatabaseAuthenticationEnabled": False,
            "enabledCloudwatchLogsExports": ["postgresql"] if encrypted else [],
            "dBInstanceArn": arn,
            "deletionProtection": True,
        },
        name=identifier,
        arn=arn,
    )


def db_cluster(identifier: str) -> dict[str, Any]:
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{identifier}"
    return item(
        "AWS::RDS::DBCluster",
        "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        {
            "allocatedStorage": 1,
            "availabilityZones": [f"{REGION}a", f"{REGION}b"],
            "backupRetentionPeriod": 14,
            "dbclusterIdentifier": identifier,
            "dbclusterParameterGroup": "aurora-pg16-tls",
            "status": "available",
            "endpoint": f"{identifier}.cluster-cxyz.{REGION}.rds.amazonaws.com",
            "engine": "aurora-postgresql",
            "engineVersion": "16.4",
            "port": 5432,
            "masterUsername": "dbadmin",
            "dbclusterMembers": [
                {
                    "dbinstanceIdentifier": f"{identifier}-1",
                    "isClusterWriter": True,
                    "dbclusterParameterGroupStatus": "in-sync",
                    "promotionTier": 1,
                }
            ],
            "vpcSecurityGroups": [{"vpcSecurityGroupId": "sg-0fedcba9876543210", "status": "active"}],
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "dbClusterResourceId": "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "dbclusterArn": arn,
            "iamdatabaseAuthenticationEnabled": True,
            "enabledCloudwatchLogsExports": ["postgresql"],
            "engineMode": "provisioned",
            "deletionProtection": True,
        },
        name=identifier,
        arn=arn,
    )


def db_snapshot(identifier: str, *, restore: list[str], encrypted: bool) -> dict[str, Any]:
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{identifier}"
    return item(
        "AWS::RDS::DBSnapshot",
        identifier,
        {
            "dBSnapshotIdentifier": identifier,
            "dBInstanceIdentifier": "orders-db-1",
            "snapshotCreateTime": "2026-11-01T03:00:00.000Z",
            "engine": "postgres",
            "allocatedStorage": 100,
            "status": "available",
            "port": 5432,
            "vpcId": VPC_ID,
            "masterUsername": "dbadmin",
            "engineVersion": "16.3",
            "snapshotType": "manual",
            "encrypted": encrypted,
            "kmsKeyId": KEY_ARN if encrypted else None,
            "dBSnapshotArn": arn,
        },
        name=identifier,
        arn=arn,
        supplementary={"DBSnapshotAttributes": [{"attributeName": "restore", "attributeValues": restore}]},
    )


def db_cluster_snapshot(identifier: str, *, restore: list[str]) -> dict[str, Any]:
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster-snapshot:{identifier}"
    return item(
        "AWS::RDS::DBClusterSnapshot",
        identifier,
        {
            "dBClusterSnapshotIdentifier": identifier,
            "dBClusterIdentifier": "ledger-aurora",
            "snapshotCreateTime": "2026-11-01T03:00:00.000Z",
            "engine": "aurora-postgresql",
            "status": "available",
            "snapshotType": "manual",
            "storageEncrypted": True,
            "kmsKeyId": KEY_ARN,
            "dBClusterSnapshotArn": arn,
        },
        name=identifier,
        arn=arn,
        supplementary={
            "DBClusterSnapshotAttributes": [{"attributeName": "restore", "attributeValues": restore}]
        },
    )


# ---- a whole account -----------------------------------------------------------------------------

READ_ONLY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/ledger-read"
WILDCARD_ARN = f"arn:aws:iam::{ACCOUNT}:policy/legacy-everything"


def account_items() -> list[dict[str, Any]]:
    return [
        bucket_compliant(),
        bucket_public(),
        item(
            "AWS::S3::Bucket",
            "acme-old-export",
            {"name": "acme-old-export"},
            arn="arn:aws:s3:::acme-old-export",
            status="ResourceDeleted",
        ),
        account_public_access_block(all_on=False),
        iam_policy("ledger-read", READ_S3_DOC, "ANPAEXAMPLEREAD000001"),
        iam_policy("legacy-everything", ADMIN_DOC, "ANPAEXAMPLEWILD000002"),
        iam_user("alice", "AIDAEXAMPLEALICE00001", inline=ADMIN_DOC, groups=["admins"]),
        iam_user("bob", "AIDAEXAMPLEBOB0000002", attached=[READ_ONLY_ARN], groups=["readers"]),
        iam_group("admins", "AGPAEXAMPLEADMINS0001", ["arn:aws:iam::aws:policy/AdministratorAccess"]),
        iam_group("readers", "AGPAEXAMPLEREADERS001", [READ_ONLY_ARN]),
        iam_role("ledger-app", "AROAEXAMPLELEDGER0001", attached=[READ_ONLY_ARN]),
        iam_role("ci-deploy", "AROAEXAMPLECIDEPLOY01", attached=["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        iam_role(
            "AWSServiceRoleForSupport",
            "AROAEXAMPLESUPPORT001",
            path="/aws-service-role/support.amazonaws.com/",
            attached=["arn:aws:iam::aws:policy/aws-service-role/AWSSupportServiceRolePolicy"],
        ),
        trail("org-trail", multi_region=True, validation=True, kms=True, custom_selectors=False),
        trail("dev-trail", multi_region=False, validation=False, kms=False, custom_selectors=True),
        kms_key("1f8e3c2a-5b7d-4e9f-a0c1-2d3e4f5a6b7c", rotation=True),
        kms_key("7c6b5a4f-3e2d-4c1b-9a0f-8e7d6c5b4a39", rotation=False),
        kms_key("0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d", manager="AWS", rotation=None),
        security_group("sg-0123456789abcdef0", "web", [ssh_from_world(), https_from_world()]),
        security_group(
            "sg-0fedcba9876543210",
            "db",
            [
                {
                    "fromPort": 5432,
                    "ipProtocol": "tcp",
                    "toPort": 5432,
                    "ipv6Ranges": [],
                    "prefixListIds": [],
                    "ipv4Ranges": [],
                    "ipRanges": [],
                    "userIdGroupPairs": [{"groupId": "sg-0123456789abcdef0", "userId": ACCOUNT}],
                }
            ],
        ),
        network_acl(
            "acl-0a1b2c3d4e5f60718",
            [
                nacl_entry(100, "allow", "0.0.0.0/0", "6", (3389, 3389)),
                nacl_entry(32767, "deny", "0.0.0.0/0"),
            ],
        ),
        vpc(),
        flow_log("fl-0a1b2c3d4e5f60718"),
        vpc_endpoint("vpce-0a1b2c3d4e5f60718", "s3"),
        network_interface("eni-0a1b2c3d4e5f60718", "sg-0123456789abcdef0", "i-0abc1234def567890"),
        instance("i-0abc1234def567890", tokens="optional"),
        instance("i-0def5678abc123456", tokens="required"),
        volume("vol-0a1b2c3d4e5f60718", encrypted=True),
        volume("vol-0f1e2d3c4b5a69788", encrypted=False),
        db_instance("orders-db-1", public=True, encrypted=False, backup_days=0),
        db_instance("orders-db-2", public=False, encrypted=True, backup_days=14),
        db_cluster("ledger-aurora"),
        db_snapshot("orders-db-1-manual-2026-11-01", restore=["all"], encrypted=False),
        db_snapshot("orders-db-2-manual-2026-11-01", restore=[], encrypted=True),
        db_cluster_snapshot("ledger-aurora-2026-11-01", restore=["444455556666"]),
        item(
            "AWS::SNS::Topic",
            f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
            {"TopicArn": "alerts"},
            arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
        ),
    ]


# ---- Lambda, DynamoDB ------------------------------------------------------------------------------

FAKE_ACCESS_KEY = "AKIA" + "Z7QX4RJ2M8VN3KLP"  # the shape of an access key ID, not a real one


def lambda_function(
    name: str,
    *,
    runtime: str = "python3.12",
    secret: bool = False,
    public: bool = False,
    with_policy_entry: bool = True,
) -> dict[str, Any]:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    variables = {"TABLE_NAME": "orders", "LOG_LEVEL": "info"}
    if secret:
        variables["UPSTREAM_KEY_ID"] = FAKE_ACCESS_KEY
    supplementary: dict[str, Any] = {"Concurrency": {"reservedConcurrentExecutions": 5}}
    if with_policy_entry and public:
        supplementary["Policy"] = json.dumps(
            {
                "Version": "2012-10-17",
                "Id": "default",
                "Statement": [
                    {
                        "Sid": "public-invoke",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "lambda:InvokeFunction",
                        "Resource": arn,
                    }
                ],
            }
        )
    return item(
        "AWS::Lambda::Function",
        name,
        {
            "functionName": name,
            "functionArn": arn,
            "runtime": runtime,
            "role": f"arn:aws:iam::{ACCOUNT}:role/ledger-app",
            "handler": "app.handler",
            "codeSize": 5120,
            "description": "",
            "timeout": 30,
            "memorySize": 256,
            "lastModified": "2026-10-02T08:00:00.000+0000",
            "codeSha256": "n3A0vX8bq4p2+0yWmI0t3p7Zx8uE1Yb5l0c9Kf2Jb0M=",
            "version": "$LATEST",
            "vpcConfig": {
                "subnetIds": ["subnet-0c1d2e3f4a5b6c7d8"],
                "securityGroupIds": ["sg-0fedcba9876543210"],
            },
            "environment": {"variables": variables},
            "tracingConfig": {"mode": "PassThrough"},
            "packageType": "Zip",
            "architectures": ["arm64"],
            "deadLetterConfig": {"targetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dlq"}
            if not secret
            else None,
        },
        name=name,
        arn=arn,
        supplementary=supplementary,
    )


def dynamodb_table(name: str, *, key_arn: str | None, pitr: bool) -> dict[str, Any]:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
    configuration: dict[str, Any] = {
        "attributeDefinitions": [{"attributeName": "pk", "attributeType": "S"}],
        "tableName": name,
        "keySchema": [{"attributeName": "pk", "keyType": "HASH"}],
        "tableStatus": "ACTIVE",
        "creationDateTime": "2024-03-11T09:30:00.000Z",
        "tableArn": arn,
        "tableId": "0b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
        "billingModeSummary": {"billingMode": "PAY_PER_REQUEST"},
    }
    if key_arn:
        configuration["ssedescription"] = {"status": "ENABLED", "ssetype": "KMS", "kmsmasterKeyArn": key_arn}
    return item(
        "AWS::DynamoDB::Table",
        name,
        configuration,
        arn=arn,
        supplementary={
            "ContinuousBackupsDescription": {
                "continuousBackupsStatus": "ENABLED",
                "pointInTimeRecoveryDescription": {
                    "pointInTimeRecoveryStatus": "ENABLED" if pitr else "DISABLED"
                },
            }
        },
    )


def cloudfront_distribution(dist_id: str, *, https: bool, oac: str | None, waf: bool) -> dict[str, Any]:
    arn = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{dist_id}"
    origin: dict[str, Any] = {
        "id": "ledger-s3",
        "domainName": "acme-prod-ledger.s3.eu-west-1.amazonaws.com",
        "originPath": "",
        "customHeaders": {"quantity": 0, "items": []},
        "s3OriginConfig": {"originAccessIdentity": ""},
    }
    if oac is not None:
        origin["originAccessControlId"] = oac
    behavior = {
        "targetOriginId": "ledger-s3",
        "viewerProtocolPolicy": "redirect-to-https" if https else "allow-all",
        "lambdaFunctionAssociations": {"quantity": 0, "items": []},
        "compress": True,
    }
    return item(
        "AWS::CloudFront::Distribution",
        dist_id,
        {
            "id": dist_id,
            "arn": arn,
            "status": "Deployed",
            "domainName": f"{dist_id.lower()}.cloudfront.net",
            "lastModifiedTime": "2026-10-02T08:00:00.000Z",
            "distributionConfig": {
                "callerReference": "c0ffee-2024",
                "aliases": {"quantity": 1, "items": [f"{dist_id.lower()}.example.com"]},
                "defaultRootObject": "index.html",
                "origins": {"quantity": 1, "items": [origin]},
                "defaultCacheBehavior": behavior,
                "cacheBehaviors": {"quantity": 0, "items": []},
                "comment": "",
                "enabled": True,
                "priceClass": "PriceClass_100",
                "viewerCertificate": {
                    "acmCertificateArn": f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0f1e2d3c",
                    "cloudFrontDefaultCertificate": False,
                    "sslSupportMethod": "sni-only",
                    "minimumProtocolVersion": "TLSv1.2_2021" if https else "TLSv1",
                },
                "restrictions": {"geoRestriction": {"restrictionType": "none", "quantity": 0, "items": []}},
                "webACLId": f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/edge/1a2b3c" if waf else "",
                "httpVersion": "http2",
                "isIPV6Enabled": True,
            },
        },
        arn=arn,
        region="global",
    )


def rest_api(api_id: str, name: str, policy: dict[str, Any] | None) -> dict[str, Any]:
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    # API Gateway returns (and AWS Config records) the resource policy JSON-escaped.
    escaped = json.dumps(policy).replace('"', '\\"') if policy else None
    return item(
        "AWS::ApiGateway::RestApi",
        api_id,
        {
            "id": api_id,
            "name": name,
            "createdDate": "2024-03-11T09:30:00.000Z",
            "apiKeySource": "HEADER",
            "endpointConfiguration": {"types": ["REGIONAL"]},
            "policy": escaped,
            "disableExecuteApiEndpoint": False,
        },
        name=name,
        arn=arn,
    )


def rest_stage(api_id: str, stage: str, *, throttled: bool, waf: bool, logging: bool) -> dict[str, Any]:
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}/stages/{stage}"
    settings = {
        "*/*": {
            "metricsEnabled": True,
            "loggingLevel": "INFO" if logging else "OFF",
            "throttlingBurstLimit": 200 if throttled else -1,
            "throttlingRateLimit": 100.0 if throttled else -1.0,
        }
    }
    return item(
        "AWS::ApiGateway::Stage",
        arn,
        {
            "deploymentId": "a1b2c3",
            "stageName": stage,
            "cacheClusterEnabled": False,
            "methodSettings": settings,
            "tracingEnabled": False,
            "createdDate": "2024-03-11T09:30:00.000Z",
            "accessLogSettings": {
                "destinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:api-access",
                "format": "$context.requestId",
            }
            if logging
            else None,
            "webAclArn": f"arn:aws:wafv2:{REGION}:{ACCOUNT}:regional/webacl/api/0a1b" if waf else None,
        },
        name=stage,
        arn=arn,
    )


def http_api(api_id: str, name: str) -> dict[str, Any]:
    return item(
        "AWS::ApiGatewayV2::Api",
        api_id,
        {
            "apiId": api_id,
            "name": name,
            "protocolType": "HTTP",
            "apiEndpoint": f"https://{api_id}.execute-api.{REGION}.amazonaws.com",
            "routeSelectionExpression": "$request.method $request.path",
            "disableExecuteApiEndpoint": False,
        },
        name=name,
        arn=f"arn:aws:apigateway:{REGION}::/apis/{api_id}",
    )


def http_stage(api_id: str, stage: str, *, throttled: bool) -> dict[str, Any]:
    arn = f"arn:aws:apigateway:{REGION}::/apis/{api_id}/stages/{stage}"
    defaults = {"detailedMetricsEnabled": False}
    if throttled:
        defaults.update({"throttlingBurstLimit": 100, "throttlingRateLimit": 50.0})
    return item(
        "AWS::ApiGatewayV2::Stage",
        arn,
        {
            "stageName": stage,
            "autoDeploy": True,
            "defaultRouteSettings": defaults,
            "accessLogSettings": None,
            "createdDate": "2024-03-11T09:30:00.000Z",
        },
        name=stage,
        arn=arn,
    )


def launch_template(
    template_id: str, name: str, *, tokens: str | None, encrypted: bool | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ImageId": "ami-0c1bea58988a989155",
        "InstanceType": "t3.medium",
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "VolumeSize": 30,
                    "VolumeType": "gp3",
                    **({"Encrypted": encrypted} if encrypted is not None else {}),
                },
            }
        ],
    }
    if tokens:
        data["MetadataOptions"] = {
            "HttpTokens": tokens,
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 2,
        }
    return item(
        "AWS::EC2::LaunchTemplate",
        template_id,
        {
            "Id": template_id,
            "LaunchTemplateName": name,
            "DefaultVersionNumber": "3",
            "LatestVersionNumber": "4",
            "LaunchTemplateData": data,
        },
        name=name,
        arn=_ec2_arn("launch-template", template_id),
    )
