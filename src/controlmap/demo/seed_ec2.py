"""Demo EC2/VPC resources: a compliant and a non-compliant example for EC2-01 … EC2-09.

moto has no Systems Manager fleet APIs (DescribeInstanceInformation, DescribeInstancePatchStates)
so this module teaches the in-process moto server to answer them from the demo instances' tags:

* ``controlmap-demo:ssm`` = ``Online`` / ``ConnectionLost`` … : the instance is a managed node
  with that ping status (no tag: not managed);
* ``controlmap-demo:patch`` = ``missing=3,failed=1,critical=1,security=0,pending_reboot=0,days=2``
  (every key optional; ``days`` is how long ago the last Scan ended): its patch state (no tag:
  never scanned).

It also adds EC2's account-level instance metadata defaults (Get/ModifyInstanceMetadataDefaults),
which moto lacks, kept per account and region.

The emulation only exists in processes that import this module (the demo and the tests); a real
scan never sees it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from controlmap.demo.seed import SeedContext, seeder

SSM_TAG = "controlmap-demo:ssm"
PATCH_TAG = "controlmap-demo:patch"
DEMO_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ7oH3ib0pYV0dVYbqfCk0xH0i6JxV3zD7bq1bEetU7T controlmap-demo"
)


# ---- moto: Systems Manager fleet emulation ------------------------------------------------


def _demo_instances(account: str, region: str) -> list[tuple[Any, dict[str, str]]]:
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    # The tag store keyed by resource ID: instance.get_tags() filters every tag of the region,
    # which made each emulated call quadratic in the number of instances.
    return [(instance, dict(backend.tags.get(instance.id, {}))) for instance in backend.all_instances()]


def _patch_state(instance_id: str, spec: str) -> dict[str, Any]:
    values: dict[str, int] = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        if key.strip() and value.strip().isdigit():
            values[key.strip()] = int(value)
    ended = datetime.now(UTC) - timedelta(days=values.get("days", 1))
    return {
        "InstanceId": instance_id,
        "PatchGroup": "",
        "BaselineId": "pb-0c10e65780EXAMPLE",
        "OwnerInformation": "",
        "InstalledCount": 40,
        "InstalledOtherCount": 0,
        "InstalledPendingRebootCount": values.get("pending_reboot", 0),
        "InstalledRejectedCount": 0,
        "MissingCount": values.get("missing", 0),
        "FailedCount": values.get("failed", 0),
        "NotApplicableCount": 0,
        "OperationStartTime": ended - timedelta(minutes=5),
        "OperationEndTime": ended,
        "Operation": "Scan",
        "CriticalNonCompliantCount": values.get("critical", 0),
        "SecurityNonCompliantCount": values.get("security", 0),
        "OtherNonCompliantCount": 0,
    }


def install_ssm_emulation() -> None:
    """Add DescribeInstanceInformation and DescribeInstancePatchStates to moto's SSM responses."""
    from moto.core.responses import ActionResult
    from moto.ssm.responses import SimpleSystemManagerResponse

    if getattr(SimpleSystemManagerResponse, "_controlmap_demo", False):
        return

    def describe_instance_information(self: Any) -> ActionResult:
        items = []
        for instance, tags in _demo_instances(self.current_account, self.region):
            if SSM_TAG in tags and instance.state != "terminated":
                items.append(
                    {
                        "InstanceId": instance.id,
                        "PingStatus": tags[SSM_TAG],
                        "PlatformType": "Windows" if instance.platform == "windows" else "Linux",
                        "ResourceType": "EC2Instance",
                        "AgentVersion": "3.3.0.0",
                        "LastPingDateTime": datetime.now(UTC),
                    }
                )
        return ActionResult({"InstanceInformationList": items})

    def describe_instance_patch_states(self: Any) -> ActionResult:
        wanted = set(self._get_param("InstanceIds") or [])
        states = [
            _patch_state(instance.id, tags[PATCH_TAG])
            for instance, tags in _demo_instances(self.current_account, self.region)
            if instance.id in wanted and SSM_TAG in tags and PATCH_TAG in tags
        ]
        return ActionResult({"InstancePatchStates": states})

    SimpleSystemManagerResponse.describe_instance_information = describe_instance_information  # type: ignore[attr-defined]
    SimpleSystemManagerResponse.describe_instance_patch_states = describe_instance_patch_states  # type: ignore[attr-defined]
    SimpleSystemManagerResponse._controlmap_demo = True  # type: ignore[attr-defined]


install_ssm_emulation()


# ---- moto: account-level instance metadata defaults ----------------------------------------


def install_imds_defaults_emulation() -> None:
    """Add Get/ModifyInstanceMetadataDefaults (per account and region) to moto's EC2 responses.

    The values live on the region's EC2 backend, so moto's reset forgets them with it.
    """
    from moto.core.responses import ActionResult
    from moto.ec2.responses import EC2Response

    if getattr(EC2Response, "_controlmap_imds", False):
        return

    def _defaults(self: Any) -> dict[str, Any]:
        backend = self.ec2_backend
        if not hasattr(backend, "_controlmap_imds_defaults"):
            backend._controlmap_imds_defaults = {}
        return backend._controlmap_imds_defaults

    def get_instance_metadata_defaults(self: Any) -> ActionResult:
        return ActionResult({"AccountLevel": dict(_defaults(self))})

    def modify_instance_metadata_defaults(self: Any) -> ActionResult:
        defaults = _defaults(self)
        for name in ("HttpTokens", "HttpEndpoint", "InstanceMetadataTags"):
            value = self._get_param(name)
            if value == "no-preference":
                defaults.pop(name, None)
            elif value:
                defaults[name] = value
        return ActionResult({"Return": True})

    EC2Response.get_instance_metadata_defaults = get_instance_metadata_defaults  # type: ignore[attr-defined]
    EC2Response.modify_instance_metadata_defaults = modify_instance_metadata_defaults  # type: ignore[attr-defined]
    EC2Response._controlmap_imds = True  # type: ignore[attr-defined]


install_imds_defaults_emulation()


# ---- the demo account ---------------------------------------------------------------------


def _tags(name: str, **extra: str) -> list[dict[str, Any]]:
    tags = [{"Key": "Name", "Value": name}, *({"Key": k, "Value": v} for k, v in extra.items())]
    return [{"ResourceType": "instance", "Tags": tags}]


def _group(ec2: Any, vpc_id: str, name: str, rules: list[dict[str, Any]]) -> str:
    group_id = str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc_id)["GroupId"])
    if rules:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=rules)
    return group_id


def _world(protocol: str, low: int, high: int) -> dict[str, Any]:
    return {"IpProtocol": protocol, "FromPort": low, "ToPort": high, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@seeder("ec2")
def seed_ec2(ctx: SeedContext) -> None:
    home, other = ctx.regions[0], ctx.regions[-1]
    ec2 = ctx.client("ec2", home)
    # A named Amazon image (moto bundles it); listing every public image would be slow.
    amazon_ami = ec2.describe_images(
        Owners=["amazon"],
        Filters=[{"Name": "name", "Values": ["amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2"]}],
    )["Images"][0]["ImageId"]

    # EC2-04: encryption by default on in the home region only.
    ec2.enable_ebs_encryption_by_default()

    # A well-built VPC: endpoints, flow log, closed default group, tight NACL.
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": "demo-good-vpc"}])
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    for service in ("s3", "dynamodb"):
        ec2.create_vpc_endpoint(
            VpcId=vpc_id, ServiceName=f"com.amazonaws.{home}.{service}", VpcEndpointType="Gateway"
        )
    logs = ctx.client("logs", home)
    logs.create_log_group(logGroupName="demo-vpc-flow-logs")
    ec2.create_flow_logs(
        ResourceIds=[vpc_id],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="demo-vpc-flow-logs",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ctx.account_id}:role/demo-flow-logs",
    )
    default_group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    for direction, key in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
        if default_group.get(key):
            revoke = getattr(ec2, f"revoke_security_group_{direction}")
            revoke(GroupId=default_group["GroupId"], IpPermissions=default_group[key])
    acl_id = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
    ec2.create_tags(Resources=[acl_id], Tags=[{"Key": "Name", "Value": "demo-tight-nacl"}])
    ec2.create_network_acl_entry(
        NetworkAclId=acl_id, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False,
        CidrBlock="0.0.0.0/0", PortRange={"From": 443, "To": 443},
    )  # fmt: skip
    ec2.create_network_acl_entry(
        NetworkAclId=acl_id, RuleNumber=110, Protocol="-1", RuleAction="allow", Egress=False,
        CidrBlock="10.20.0.0/16",
    )  # fmt: skip
    association = ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
    )
    for acl in association["NetworkAcls"]:
        for assoc in acl.get("Associations", []):
            if assoc.get("SubnetId") == subnet_id:
                ec2.replace_network_acl_association(
                    AssociationId=assoc["NetworkAclAssociationId"], NetworkAclId=acl_id
                )

    # EC2-01: a web tier open on 443 only (passes), SSH open to the world, everything open, a range.
    web = _group(ec2, vpc_id, "demo-web-https", [_world("tcp", 443, 443), _world("tcp", 80, 80)])
    ssh = _group(ec2, vpc_id, "demo-ssh-open", [_world("tcp", 22, 22)])
    _group(ec2, vpc_id, "demo-all-open", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    _group(
        ec2,
        vpc_id,
        "demo-range-open",
        [{"IpProtocol": "tcp", "FromPort": 3000, "ToPort": 3400, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
    )

    # Key pairs (EC2-07): one per workload, one shared by six instances, one imported in two regions.
    ec2.create_key_pair(KeyName="demo-app")
    ec2.create_key_pair(KeyName="demo-shared")
    ec2.import_key_pair(KeyName="demo-everywhere", PublicKeyMaterial=DEMO_PUBLIC_KEY.encode())
    ctx.client("ec2", other).import_key_pair(
        KeyName="demo-everywhere", PublicKeyMaterial=DEMO_PUBLIC_KEY.encode()
    )

    def launch(name: str, count: int = 1, **kwargs: Any) -> list[str]:
        extra_tags = kwargs.pop("tags", {})
        kwargs.setdefault("SubnetId", subnet_id)
        kwargs.setdefault("SecurityGroupIds", [web])
        result = ec2.run_instances(
            ImageId=kwargs.pop("ImageId", amazon_ami),
            MinCount=count,
            MaxCount=count,
            TagSpecifications=_tags(name, **extra_tags),
            **kwargs,
        )
        return [i["InstanceId"] for i in result["Instances"]]

    # Compliant: IMDSv2, managed, patched, no world-open SSH, own key pair.
    launch(
        "demo-good-app",
        KeyName="demo-app",
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        tags={SSM_TAG: "Online", PATCH_TAG: "missing=0,days=2"},
    )
    # Non-compliant: IMDSv1 allowed, SSH open to the world, not managed by Systems Manager.
    launch("demo-legacy-bastion", KeyName="demo-everywhere", SecurityGroupIds=[ssh],
           MetadataOptions={"HttpTokens": "optional"})  # fmt: skip
    # Managed but missing critical patches, and one whose agent lost its connection.
    launch("demo-unpatched", tags={SSM_TAG: "Online", PATCH_TAG: "missing=4,critical=2,days=3"},
           MetadataOptions={"HttpTokens": "required"})  # fmt: skip
    launch("demo-agent-lost", tags={SSM_TAG: "ConnectionLost", PATCH_TAG: "missing=0,days=90"},
           MetadataOptions={"HttpTokens": "required"})  # fmt: skip
    # Six instances on one key pair (EC2-07), managed and patched.
    launch("demo-fleet", count=6, KeyName="demo-shared", MetadataOptions={"HttpTokens": "required"},
           tags={SSM_TAG: "Online", PATCH_TAG: "days=1"})  # fmt: skip
    # A stopped, unmanaged instance: not a finding for patching.
    stopped = launch("demo-stopped")
    ec2.stop_instances(InstanceIds=stopped)

    # EC2-04: encrypted and unencrypted volumes; EBS snapshots, one public.
    good_volume = ec2.create_volume(AvailabilityZone=f"{home}a", Size=8, Encrypted=True)["VolumeId"]
    bad_volume = ec2.create_volume(AvailabilityZone=f"{home}a", Size=8, Encrypted=False)["VolumeId"]
    ec2.create_snapshot(VolumeId=good_volume, Description="demo encrypted snapshot")
    public_snapshot = ec2.create_snapshot(VolumeId=bad_volume, Description="demo public snapshot")[
        "SnapshotId"
    ]
    ec2.modify_snapshot_attribute(
        SnapshotId=public_snapshot,
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )

    # EC2-05: the account's own AMIs, one made public.
    source = launch("demo-image-source", MetadataOptions={"HttpTokens": "required"})[0]
    private_ami = ec2.create_image(InstanceId=source, Name="demo-private-ami")["ImageId"]
    public_ami = ec2.create_image(InstanceId=source, Name="demo-public-ami")["ImageId"]
    ec2.modify_image_attribute(ImageId=public_ami, LaunchPermission={"Add": [{"Group": "all"}]})
    del private_ami
    ec2.terminate_instances(InstanceIds=[source])

    # Launch templates: IMDSv2 and encrypted volumes, and one that sets neither (in the region
    # without encryption by default, so its unencrypted volume mapping is a finding).
    ec2.create_launch_template(
        LaunchTemplateName="demo-hardened-template",
        LaunchTemplateData={
            "ImageId": amazon_ami,
            "MetadataOptions": {"HttpTokens": "required"},
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeSize": 8}}],
        },
    )
    # IMDSv2 is the account default in the home region, so a template that leaves HttpTokens
    # unset still launches IMDSv2-only instances there (EC2-05 PASS); not so in the other region.
    ec2.modify_instance_metadata_defaults(HttpTokens="required")
    ec2.create_launch_template(
        LaunchTemplateName="demo-batch-template",
        LaunchTemplateData={
            "ImageId": amazon_ami,
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True, "VolumeSize": 8}}],
        },
    )
    ctx.client("ec2", other).create_launch_template(
        LaunchTemplateName="demo-legacy-template",
        LaunchTemplateData={
            "ImageId": amazon_ami,
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
        },
    )

    # The default VPC of the home region is used (it has an instance) but has no endpoints and no
    # flow log, and its default security group still allows traffic.
    default_subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    if default_subnet:
        launch(
            "demo-default-vpc-app",
            SubnetId=default_subnet[0]["SubnetId"],
            SecurityGroupIds=[],
            MetadataOptions={"HttpTokens": "required"},
            tags={SSM_TAG: "Online", PATCH_TAG: "days=1"},
        )
