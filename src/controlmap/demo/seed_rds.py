"""Demo RDS resources: a compliant and a non-compliant example for RDS-01 … RDS-07.

Includes the traps the checks must get right: PostgreSQL 15 on its default parameter group
(TLS enforced by the engine default), an Aurora cluster whose TLS setting lives in the
*cluster* parameter group, an Oracle instance (TLS is MANUAL, IAM authentication not applicable).
"""

from __future__ import annotations

from typing import Any

from controlmap.demo.seed import SeedContext, seeder

_PASSWORD = "demo-not-a-secret-1"  # the local demo server only


def _database(rds: Any, identifier: str, **kwargs: Any) -> None:
    kwargs.setdefault("DBInstanceClass", "db.t3.micro")
    kwargs.setdefault("AllocatedStorage", 20)
    kwargs.setdefault("MasterUsername", "demo")
    kwargs.setdefault("MasterUserPassword", _PASSWORD)
    rds.create_db_instance(DBInstanceIdentifier=identifier, **kwargs)


@seeder("rds")
def seed_rds(ctx: SeedContext) -> None:
    ec2 = ctx.client("ec2")
    rds = ctx.client("rds")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    app = ec2.create_security_group(GroupName="demo-app-tier", Description="app servers", VpcId=vpc_id)
    db_private = ec2.create_security_group(GroupName="demo-db-private", Description="db", VpcId=vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=db_private["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": app["GroupId"]}],
            },
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]},
        ],
    )
    db_open = ec2.create_security_group(GroupName="demo-db-open", Description="db open", VpcId=vpc_id)
    ec2.authorize_security_group_ingress(
        GroupId=db_open["GroupId"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )

    rds.create_db_parameter_group(
        DBParameterGroupName="demo-postgres16-tls",
        DBParameterGroupFamily="postgres16",
        Description="TLS required",
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="demo-postgres16-tls",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    # Compliant PostgreSQL 16: encrypted, private, TLS forced, 14-day backups, logs, IAM auth.
    _database(
        rds,
        "demo-orders-pg",
        Engine="postgres",
        EngineVersion="16.3",
        StorageEncrypted=True,
        PubliclyAccessible=False,
        VpcSecurityGroupIds=[db_private["GroupId"]],
        DBParameterGroupName="demo-postgres16-tls",
        BackupRetentionPeriod=14,
        EnableCloudwatchLogsExports=["postgresql", "upgrade"],
        EnableIAMDatabaseAuthentication=True,
    )
    # PostgreSQL 15 on the default parameter group: rds.force_ssl defaults to 1 (passes TLS).
    _database(
        rds,
        "demo-reports-pg15",
        Engine="postgres",
        EngineVersion="15.5",
        StorageEncrypted=True,
        VpcSecurityGroupIds=[db_private["GroupId"]],
        BackupRetentionPeriod=3,
    )
    # Non-compliant MySQL: unencrypted, public, open to the world, TLS off by default, 1-day backups.
    _database(
        rds,
        "demo-legacy-mysql",
        Engine="mysql",
        EngineVersion="8.0.35",
        StorageEncrypted=False,
        PubliclyAccessible=True,
        VpcSecurityGroupIds=[db_open["GroupId"]],
        BackupRetentionPeriod=1,
    )
    # RDS attaches a network interface carrying the instance's security groups to its subnet;
    # moto does not, so the demo adds it: EC2-01 then shows what the open group exposes.
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"][0]["SubnetId"]
    ec2.create_network_interface(
        SubnetId=subnet, Groups=[db_open["GroupId"]], Description="RDSNetworkInterface"
    )
    # Oracle: TLS is configured in option groups (MANUAL); no IAM database authentication.
    _database(
        rds,
        "demo-erp-oracle",
        Engine="oracle-se2",
        EngineVersion="19.0.0.0.ru-2024-01.rur-2024-01.r1",
        LicenseModel="license-included",
        StorageEncrypted=True,
        VpcSecurityGroupIds=[db_private["GroupId"]],
        BackupRetentionPeriod=7,
        EnableCloudwatchLogsExports=["alert", "audit", "listener"],
    )

    # Aurora MySQL: TLS from the cluster parameter group; the member instance defers to the cluster.
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="demo-aurora-mysql-tls",
        DBParameterGroupFamily="aurora-mysql8.0",
        Description="TLS required",
    )
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName="demo-aurora-mysql-tls",
        Parameters=[
            {"ParameterName": "require_secure_transport", "ParameterValue": "ON", "ApplyMethod": "immediate"}
        ],
    )
    rds.create_db_cluster(
        DBClusterIdentifier="demo-payments-aurora",
        Engine="aurora-mysql",
        EngineVersion="8.0.mysql_aurora.3.05.2",
        MasterUsername="demo",
        MasterUserPassword=_PASSWORD,
        StorageEncrypted=True,
        DBClusterParameterGroupName="demo-aurora-mysql-tls",
        VpcSecurityGroupIds=[db_private["GroupId"]],
        BackupRetentionPeriod=7,
        EnableCloudwatchLogsExports=["audit", "error", "slowquery"],
        EnableIAMDatabaseAuthentication=True,
    )
    rds.create_db_instance(
        DBInstanceIdentifier="demo-payments-aurora-1",
        DBClusterIdentifier="demo-payments-aurora",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
    )
    # Aurora PostgreSQL without encryption, backups at 1 day, default cluster parameters.
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="demo-aurora-pg-defaults",
        DBParameterGroupFamily="aurora-postgresql15",
        Description="engine defaults",
    )
    rds.create_db_cluster(
        DBClusterIdentifier="demo-analytics-aurora",
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="demo",
        MasterUserPassword=_PASSWORD,
        StorageEncrypted=False,
        DBClusterParameterGroupName="demo-aurora-pg-defaults",
        BackupRetentionPeriod=1,
    )

    # Snapshots: an encrypted private one, a public unencrypted one, a public cluster snapshot.
    rds.create_db_snapshot(
        DBSnapshotIdentifier="demo-orders-before-migration", DBInstanceIdentifier="demo-orders-pg"
    )
    rds.create_db_snapshot(
        DBSnapshotIdentifier="demo-legacy-export", DBInstanceIdentifier="demo-legacy-mysql"
    )
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="demo-legacy-export", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="demo-analytics-share", DBClusterIdentifier="demo-analytics-aurora"
    )
    rds.modify_db_cluster_snapshot_attribute(
        DBClusterSnapshotIdentifier="demo-analytics-share", AttributeName="restore", ValuesToAdd=["all"]
    )
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="demo-payments-monthly", DBClusterIdentifier="demo-payments-aurora"
    )
