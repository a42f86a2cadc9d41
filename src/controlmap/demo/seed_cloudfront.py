"""Demo CloudFront distributions: a compliant and a non-compliant example for CF-01 … CF-05.

moto's ListDistributions drops what CloudFront checks read (S3 origin access identities and
controls, Lambda@Edge associations, the custom certificate), so ``CloudFrontEmulation`` answers
ListDistributions at the botocore level with distribution summaries shaped like AWS's output
(``DistributionSummary`` in botocore's model). Only the demo and the tests install it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from controlmap.demo.fakes import answer_before_call
from controlmap.demo.seed import SeedContext, demo_client_hook, seeder


def _list(items: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(items), "Items": items}


def s3_origin(origin_id: str, bucket: str, *, oac: str = "", oai: str = "") -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": "",
        "CustomHeaders": _list([]),
        "S3OriginConfig": {"OriginAccessIdentity": f"origin-access-identity/cloudfront/{oai}" if oai else ""},
        "OriginAccessControlId": oac,
        "ConnectionAttempts": 3,
        "ConnectionTimeout": 10,
    }


def custom_origin(origin_id: str, domain: str, policy: str, protocols: list[str]) -> dict[str, Any]:
    return {
        "Id": origin_id,
        "DomainName": domain,
        "OriginPath": "",
        "CustomHeaders": _list([]),
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": policy,
            "OriginSslProtocols": _list(protocols),
            "OriginReadTimeout": 30,
            "OriginKeepaliveTimeout": 5,
        },
        "ConnectionAttempts": 3,
        "ConnectionTimeout": 10,
        "OriginAccessControlId": "",
    }


def cache_behavior(
    origin_id: str, viewer: str, path: str | None = None, edge: tuple[str, ...] = ()
) -> dict[str, Any]:
    behavior: dict[str, Any] = {
        "TargetOriginId": origin_id,
        "ViewerProtocolPolicy": viewer,
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
        "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]},
        "Compress": True,
        "LambdaFunctionAssociations": _list(
            [{"LambdaFunctionARN": arn, "EventType": "viewer-request", "IncludeBody": False} for arn in edge]
        ),
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
    }
    if path is not None:
        behavior["PathPattern"] = path
    return behavior


def summary(
    account: str,
    dist_id: str,
    *,
    origins: list[dict[str, Any]],
    default: dict[str, Any],
    behaviors: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    aliases: tuple[str, ...] | list[str] = (),
    certificate: str | None = None,
    minimum_protocol: str = "TLSv1",
    web_acl: str = "",
    geo: tuple[str, list[str]] = ("none", []),
    origin_groups: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    viewer: dict[str, Any] = (
        {
            "ACMCertificateArn": certificate,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": minimum_protocol,
            "Certificate": certificate,
            "CertificateSource": "acm",
        }
        if certificate
        else {
            "CloudFrontDefaultCertificate": True,
            "MinimumProtocolVersion": "TLSv1",
            "CertificateSource": "cloudfront",
        }
    )
    return {
        "Id": dist_id,
        "ARN": f"arn:aws:cloudfront::{account}:distribution/{dist_id}",
        "Status": "Deployed",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "DomainName": f"{dist_id.lower()}.cloudfront.net",
        "Aliases": _list(list(aliases)),
        "Origins": _list(origins),
        **(
            {
                "OriginGroups": _list(
                    [
                        {
                            "Id": group,
                            "FailoverCriteria": {"StatusCodes": _list([500, 502, 503, 504])},
                            "Members": _list([{"OriginId": m} for m in members]),
                        }
                        for group, members in origin_groups.items()
                    ]
                )
            }
            if origin_groups
            else {}
        ),
        "DefaultCacheBehavior": default,
        "CacheBehaviors": _list(list(behaviors)),
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": "",
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": viewer,
        "Restrictions": {"GeoRestriction": {"RestrictionType": geo[0], **_list(geo[1])}},
        "WebACLId": web_acl,
        "HttpVersion": "http2",
        "IsIPV6Enabled": True,
        "Staging": False,
    }


@dataclass
class CloudFrontEmulation:
    distributions: list[dict[str, Any]] = field(default_factory=list)

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "cloudfront":
            return
        answer_before_call(client, "ListDistributions", self._list)

    def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        items = copy.deepcopy(self.distributions)
        return {
            "DistributionList": {
                "Marker": "",
                "MaxItems": 100,
                "IsTruncated": False,
                "Quantity": len(items),
                "Items": items,
            }
        }


DEMO_CLOUDFRONT = CloudFrontEmulation()
demo_client_hook(DEMO_CLOUDFRONT.install)


@seeder("cloudfront")
def seed_cloudfront(ctx: SeedContext) -> None:
    account, home = ctx.account_id, ctx.regions[0]
    acl = f"arn:aws:wafv2:us-east-1:{account}:global/webacl/demo-edge/1a2b3c4d"
    edge = f"arn:aws:lambda:{home}:{account}:function:demo-edge-headers:1"
    DEMO_CLOUDFRONT.distributions[:] = [
        # Compliant on every control: HTTPS everywhere, TLSv1.2_2021, TLS 1.2 to the origin, WAF,
        # OAC on the S3 origin, and a geo restriction blocking the countries the demo policy lists.
        summary(
            account,
            "E1DEMOGOOD0001",
            aliases=["www.demo.example"],
            origins=[
                s3_origin("site", "demo-site-assets", oac="E2OACDEMO0001"),
                custom_origin("api", "api.demo.example", "https-only", ["TLSv1.2"]),
            ],
            default=cache_behavior("site", "redirect-to-https", edge=(edge,)),
            behaviors=[cache_behavior("api", "https-only", "/api/*")],
            certificate=f"arn:aws:acm:us-east-1:{account}:certificate/0d1e2f3a-demo",
            minimum_protocol="TLSv1.2_2021",
            web_acl=acl,
            geo=("blacklist", ["KP", "IR", "SY", "CU"]),
        ),
        # Non-compliant on every control: an /api/* behavior that allows HTTP, an http-only S3
        # website origin, the default certificate, TLSv1 to the origin, no web ACL, an S3 origin
        # without OAC or OAI, and no geo restriction.
        summary(
            account,
            "E1DEMOLEGACY02",
            origins=[
                s3_origin("media", "demo-media-public"),
                custom_origin("web", "demo-www.s3-website-us-east-1.amazonaws.com", "http-only", []),
                custom_origin(
                    "legacy-api", "legacy.demo.example", "match-viewer", ["TLSv1", "TLSv1.1", "TLSv1.2"]
                ),
            ],
            default=cache_behavior("web", "redirect-to-https"),
            behaviors=[
                cache_behavior("legacy-api", "allow-all", "/api/*"),
                cache_behavior("media", "https-only", "/media/*"),
            ],
        ),
        # Legacy origin access identity: passes CF-04 with a note to migrate to OAC.
        summary(
            account,
            "E1DEMOOAI00003",
            origins=[s3_origin("docs", "demo-docs", oai="E3OAIDEMO0003")],
            default=cache_behavior("docs", "https-only"),
            certificate=f"arn:aws:acm:us-east-1:{account}:certificate/4e5f6a7b-demo",
            minimum_protocol="TLSv1.2_2019",
            web_acl=acl,
            geo=("whitelist", ["DE", "FR", "NL"]),
        ),
    ]
