"""A response botocore cannot parse (a proxy's HTML page, a truncated body) is an AWS failure like
any other: the facts it would have filled become ERROR findings, the rest of the scan goes on."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse
from livescan_helpers import live_scan

from controlmap.demo.fakes import _headers, _Raw
from controlmap.resources.ec2 import SecurityGroup


def garble(service_id: str, operation: str) -> Any:
    def install(client: Any) -> None:
        if client.meta.service_model.service_id.hyphenize() != service_id:
            return

        def respond(request: Any, **_: Any) -> AWSResponse:
            body = b"<html><body>502 Bad Gateway (corporate proxy)</body"
            return AWSResponse(request.url, 200, _headers({"Content-Type": "text/html"}), _Raw(body))

        client.meta.events.register(f"before-send.{service_id}.{operation}", respond)

    return install


def test_unparseable_listing_is_an_error_not_a_crash(aws_session: Any) -> None:
    ec2 = aws_session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=False)

    scan = live_scan(
        ["ec2_volume_encrypted", "ec2_security_group_no_world_admin_ingress"],
        hooks=[garble("ec2", "DescribeVolumes")],
    )

    errors = [e for e in scan.inventory.errors if e.operation == "DescribeVolumes"]
    assert [e.code for e in errors] == ["ResponseParserError"]
    # the listing that did parse still produced its resources
    assert any(sg.name == "web" for sg in scan.inventory.of_type(SecurityGroup))
    # the message says what happened on one line, without the proxy's page
    [error] = errors
    assert "did not answer as AWS does" in error.message
    assert "\n" not in error.message and "<html>" not in error.message and "proxy" not in error.message


def test_error_messages_are_one_line_without_html_pages() -> None:
    from botocore.exceptions import ClientError, ParamValidationError

    from controlmap.sources.aws.clients import one_line

    page = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    html = ClientError({"Error": {"Code": "404", "Message": page}}, "ListCodeSigningConfigs")
    assert one_line(html) == "the endpoint answered with an HTML page, not an AWS response"
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "User x is\nnot authorized"}}, "GetX")
    assert one_line(denied) == "User x is not authorized"
    assert "\n" not in one_line(ParamValidationError(report="Invalid length\nfor RoleArn"))
