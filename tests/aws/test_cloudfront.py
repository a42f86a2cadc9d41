"""CloudFront collection and checks. moto's ListDistributions drops origin access settings,
Lambda@Edge associations and custom certificates, so the distributions come from
``CloudFrontEmulation`` (summaries validated against botocore's output model)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from livescan_helpers import ACCOUNT, deny, live_scan, outcomes, reason, status

from controlmap.checks.registry import Status
from controlmap.demo.seed_cloudfront import (
    CloudFrontEmulation,
    cache_behavior,
    custom_origin,
    s3_origin,
    summary,
)
from controlmap.resources.cloudfront import CloudFrontDistribution
from controlmap.settings import Settings

CF_CHECKS = [
    "cloudfront_viewer_https_only",
    "cloudfront_origin_https_only",
    "cloudfront_viewer_tls_minimum",
    "cloudfront_origin_tls_protocols",
    "cloudfront_waf_enabled",
    "cloudfront_s3_origin_access_control",
    "cloudfront_geo_restriction_policy",
]
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/abc"
ACL = f"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/edge/1"
GEO = Settings.model_validate({"cloudfront": {"blocked_countries": ["kp", "IR"]}})


@pytest.fixture
def emulation(aws: Any) -> CloudFrontEmulation:
    fake = CloudFrontEmulation()
    fake.distributions = [
        summary(
            ACCOUNT,
            "GOOD",
            aliases=["good.example"],
            origins=[
                s3_origin("s3", "assets", oac="OAC1"),
                custom_origin("api", "api.example", "https-only", ["TLSv1.2"]),
            ],
            default=cache_behavior("s3", "redirect-to-https"),
            behaviors=[cache_behavior("api", "https-only", "/api/*")],
            certificate=CERT,
            minimum_protocol="TLSv1.2_2021",
            web_acl=ACL,
            geo=("blacklist", ["KP", "IR"]),
        ),
        summary(
            ACCOUNT,
            "BAD",
            origins=[
                s3_origin("open", "public-bucket"),
                custom_origin("site", "b.s3-website-us-east-1.amazonaws.com", "http-only", []),
                custom_origin("old", "old.example", "match-viewer", ["TLSv1", "TLSv1.2"]),
            ],
            default=cache_behavior("site", "redirect-to-https"),
            behaviors=[cache_behavior("old", "allow-all", "/legacy/*")],
        ),
        summary(
            ACCOUNT,
            "S3ONLY",
            origins=[s3_origin("docs", "docs", oai="OAI1")],
            default=cache_behavior("docs", "https-only"),
            certificate=CERT,
            minimum_protocol="TLSv1.2_2019",
            web_acl="a1b2c3-classic",
            geo=("whitelist", ["DE", "IR"]),
        ),
        summary(
            ACCOUNT,
            "MATCH",
            origins=[custom_origin("app", "app.example", "match-viewer", ["TLSv1.2"])],
            default=cache_behavior("app", "https-only"),
            certificate=CERT,
            minimum_protocol="TLSv1",
        ),
        # Failover: the behavior targets an origin group, whose primary member uses match-viewer.
        summary(
            ACCOUNT,
            "FAILOVER",
            origins=[
                custom_origin("primary", "a.example", "match-viewer", ["TLSv1.2"]),
                custom_origin("secondary", "b.example", "https-only", ["TLSv1.2"]),
            ],
            origin_groups={"group": ["primary", "secondary"]},
            default=cache_behavior("group", "allow-all"),
            certificate=CERT,
            minimum_protocol="TLSv1.3_2025",
        ),
    ]
    return fake


def test_emulated_summaries_match_botocore_model(emulation: CloudFrontEmulation) -> None:
    shape = (
        botocore.session.get_session().get_service_model("cloudfront").operation_model("ListDistributions")
    )
    assert shape.output_shape is not None
    report = ParamValidator().validate(emulation._list({}), shape.output_shape)
    assert not report.has_errors(), report.generate_report()


def test_cloudfront_checks(emulation: CloudFrontEmulation) -> None:
    scan = live_scan(CF_CHECKS, hooks=[emulation.install])
    names = {d.name for d in scan.inventory.of_type(CloudFrontDistribution)}
    assert names == {"good.example", "BAD", "S3ONLY", "MATCH", "FAILOVER"}
    assert scan.factory.counter.snapshot()["cloudfront:ListDistributions"] == 1

    assert status(scan, "cloudfront_viewer_https_only", "good.example") is Status.PASS
    assert status(scan, "cloudfront_viewer_https_only", "BAD") is Status.FAIL
    assert "/legacy/* (allow-all)" in reason(
        scan, "cloudfront_viewer_https_only", "BAD"
    )  # ordered behavior named

    assert status(scan, "cloudfront_origin_https_only", "good.example") is Status.PASS
    bad = reason(scan, "cloudfront_origin_https_only", "BAD")
    assert status(scan, "cloudfront_origin_https_only", "BAD") is Status.FAIL
    assert "site uses http-only (an S3 website endpoint" in bad and "old uses match-viewer" in bad
    assert status(scan, "cloudfront_origin_https_only", "S3ONLY") is Status.NOT_APPLICABLE  # S3 REST origin
    assert (
        status(scan, "cloudfront_origin_https_only", "MATCH") is Status.PASS
    )  # match-viewer behind https-only

    assert status(scan, "cloudfront_viewer_tls_minimum", "good.example") is Status.PASS
    assert status(scan, "cloudfront_viewer_tls_minimum", "BAD") is Status.FAIL
    assert "always allows TLSv1" in reason(scan, "cloudfront_viewer_tls_minimum", "BAD")
    assert "TLSv1.2_2021 or later is recommended" in reason(scan, "cloudfront_viewer_tls_minimum", "S3ONLY")
    assert status(scan, "cloudfront_viewer_tls_minimum", "MATCH") is Status.FAIL
    newest = reason(scan, "cloudfront_viewer_tls_minimum", "FAILOVER")
    assert (
        status(scan, "cloudfront_viewer_tls_minimum", "FAILOVER") is Status.PASS
        and "recommended" not in newest
    )

    # A behavior that targets an origin group reaches every member with its own policy.
    failover = reason(scan, "cloudfront_origin_https_only", "FAILOVER")
    assert status(scan, "cloudfront_origin_https_only", "FAILOVER") is Status.FAIL
    assert "primary uses match-viewer" in failover and "secondary" not in failover

    assert status(scan, "cloudfront_origin_tls_protocols", "good.example") is Status.PASS
    assert status(scan, "cloudfront_origin_tls_protocols", "BAD") is Status.FAIL
    assert "origin old allows TLSv1" in reason(scan, "cloudfront_origin_tls_protocols", "BAD")
    assert status(scan, "cloudfront_origin_tls_protocols", "S3ONLY") is Status.NOT_APPLICABLE

    assert status(scan, "cloudfront_waf_enabled", "good.example") is Status.PASS
    assert status(scan, "cloudfront_waf_enabled", "BAD") is Status.FAIL
    assert "WAF Classic" in reason(scan, "cloudfront_waf_enabled", "S3ONLY")

    assert status(scan, "cloudfront_s3_origin_access_control", "good.example") is Status.PASS
    assert status(scan, "cloudfront_s3_origin_access_control", "BAD") is Status.FAIL
    assert "legacy origin access identity" in reason(scan, "cloudfront_s3_origin_access_control", "S3ONLY")
    assert status(scan, "cloudfront_s3_origin_access_control", "MATCH") is Status.NOT_APPLICABLE

    geo = "cloudfront_geo_restriction_policy"
    assert status(scan, geo, "good.example") is Status.MANUAL  # no policy configured
    assert status(scan, geo, "good.example", GEO) is Status.PASS
    assert status(scan, geo, "BAD", GEO) is Status.FAIL
    verdict = outcomes(scan, geo, GEO)["S3ONLY"][0]
    assert verdict.status is Status.FAIL and "does not block IR" in verdict.reason  # whitelist admits IR
    required = Settings.model_validate({"cloudfront": {"geo_restriction_required": True}})
    assert status(scan, geo, "BAD", required) is Status.FAIL
    assert status(scan, geo, "S3ONLY", required) is Status.PASS


def test_bad_country_code_is_a_settings_error() -> None:
    from controlmap.checks.cloudfront import CloudFrontSettings

    with pytest.raises(ValueError, match="alpha-2"):
        CloudFrontSettings.model_validate({"blocked_countries": ["North Korea"]})


def test_listing_failure_is_an_error(emulation: CloudFrontEmulation) -> None:
    scan = live_scan(["cloudfront_waf_enabled"], hooks=[deny("cloudfront", "ListDistributions")])
    assert any(CloudFrontDistribution.resource_type in e.resource_types for e in scan.inventory.errors)
    assert not scan.inventory.of_type(CloudFrontDistribution)
