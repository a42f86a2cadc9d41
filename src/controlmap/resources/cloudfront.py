"""CloudFront distributions, normalized: cache behaviors, origins and viewer settings."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheBehavior(_Facts):
    path_pattern: str  # "Default (*)" for the default cache behavior
    viewer_protocol_policy: str | None = None  # allow-all, https-only, redirect-to-https
    target_origin_id: str | None = None
    # Lambda@Edge function version ARNs associated with this behavior.
    lambda_function_arns: list[str] = []
    # Parts a source could not know ("protocol"), with what each depends on (see Origin).
    unresolved: dict[str, str] = {}


class Origin(_Facts):
    origin_id: str
    domain_name: str
    # s3 (an S3 REST endpoint, reached with OAC/OAI), custom (anything else, incl. S3 website
    # endpoints), or vpc (CloudFront VPC origin).
    kind: str
    origin_protocol_policy: str | None = None  # custom: http-only, match-viewer, https-only
    origin_ssl_protocols: list[str] = []  # custom: SSLv3, TLSv1, TLSv1.1, TLSv1.2
    origin_access_control_id: str | None = None  # OAC (S3, Lambda URL, MediaStore…)
    origin_access_identity: str | None = None  # legacy OAI (S3 only)
    # Parts a source could not know ("kind" when the domain is unknown, "protocol", "ssl
    # protocols", "access"), each with what it depends on. A known sibling still decides a
    # verdict; an origin with unknown parts can only make it UNKNOWN.
    unresolved: dict[str, str] = {}

    @property
    def is_s3_website(self) -> bool:
        return ".s3-website" in self.domain_name


class GeoRestriction(_Facts):
    restriction_type: str = "none"  # none, blacklist, whitelist
    locations: list[str] = []  # ISO 3166-1 alpha-2 codes


class CloudFrontDistribution(Resource):
    resource_type: ClassVar[str] = "AWS::CloudFront::Distribution"

    domain_name: str | None = None
    enabled: bool | None = None
    aliases: list[str] = []
    cache_behaviors: list[CacheBehavior] | None = None  # default first, then ordered behaviors
    origins: list[Origin] | None = None
    # Origin group ID -> member origin IDs: a behavior may target a group (failover) instead of
    # one origin, and then reaches each member under its own protocol policy.
    origin_groups: dict[str, list[str]] = {}
    # ViewerCertificate: default certificate (*.cloudfront.net) or a custom (ACM/IAM) one.
    default_certificate: bool | None = None
    minimum_protocol_version: str | None = None  # TLSv1.2_2021, TLSv1, SSLv3…
    ssl_support_method: str | None = None  # sni-only, vip, static-ip
    # WebACLId: a WAFv2 web ACL ARN or a WAF Classic id; "" when none.
    web_acl_id: str | None = None
    geo_restriction: GeoRestriction | None = None
