"""A rule with an unknown part never hides a sibling rule that is known to be open (EC2-01, EC2-09)."""

from __future__ import annotations

from controlmap.checks.registry import Status
from controlmap.resources.ec2 import SecurityGroup
from controlmap.sources.iac.cloudformation.reader import read_template
from controlmap.sources.iac.terraform.reader import read_root

from .conftest import FIXTURES, resource, run_check

SG_CHECK = "ec2_security_group_no_world_admin_ingress"


def _outcomes(check: str, address: str, result):  # type: ignore[no-untyped-def]
    model = resource(result, address)
    return run_check(check, model, result.variants[0].resources)


def test_cfn_known_open_rule_fails_beside_an_unknown_one() -> None:
    result = read_template(FIXTURES / "cloudformation/mixed_rules.yaml", "mixed_rules.yaml")
    outcomes = _outcomes(SG_CHECK, "MixedGroup", result)
    assert [o.status for o in outcomes] == [Status.FAIL]
    assert "::/0" in outcomes[0].reason


def test_cfn_unknown_rule_alone_is_unknown_and_named() -> None:
    result = read_template(FIXTURES / "cloudformation/mixed_rules.yaml", "mixed_rules.yaml")
    group = resource(result, "UnknownOnlyGroup")
    assert isinstance(group, SecurityGroup) and group.ingress is not None and len(group.ingress) == 2
    outcomes = _outcomes(SG_CHECK, "UnknownOnlyGroup", result)
    assert [o.status for o in outcomes] == [Status.UNKNOWN]
    assert "SecurityGroupIngress[0].CidrIp" in outcomes[0].reason
    assert "AdminCidr" in outcomes[0].reason


def test_cfn_instance_behind_open_group_fails_ec2_09() -> None:
    result = read_template(FIXTURES / "cloudformation/mixed_rules.yaml", "mixed_rules.yaml")
    outcomes = _outcomes("ec2_instance_no_world_remote_access", "Web", result)
    assert Status.FAIL in [o.status for o in outcomes]


def test_tf_known_open_rule_fails_beside_an_unknown_one() -> None:
    result = read_root(FIXTURES / "terraform/mixed_rules", "mixed_rules")
    outcomes = _outcomes(SG_CHECK, "aws_security_group.mixed", result)
    assert [o.status for o in outcomes] == [Status.FAIL]


def test_tf_unknown_separate_rule_is_unknown_and_named() -> None:
    result = read_root(FIXTURES / "terraform/mixed_rules", "mixed_rules")
    outcomes = _outcomes(SG_CHECK, "aws_security_group.unknown_only", result)
    assert [o.status for o in outcomes] == [Status.UNKNOWN]
    assert "aws_security_group_rule.admin.cidr_blocks" in outcomes[0].reason
    assert "var.admin_cidr" in outcomes[0].reason
