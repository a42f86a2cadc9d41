"""CloudFront: every distribution, read from ListDistributions alone.

The distribution summaries carry every setting CF-01 … CF-05 read (cache behaviors, origins,
viewer certificate, geo restriction, WebACLId), so no per-distribution call is made.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.cloudfront import CacheBehavior, CloudFrontDistribution, GeoRestriction, Origin
from controlmap.sources.aws.collector import CollectContext, Scope, collector
from controlmap.sources.aws.services.lambda_ import resource_tags

DEFAULT_PATH = "Default (*)"


@collector("cloudfront", service="cloudfront", produces=[CloudFrontDistribution], scope=Scope.GLOBAL)
def collect_cloudfront(ctx: CollectContext) -> None:
    pages = ctx.pages(
        "cloudfront", "list_distributions", region="us-east-1", produces=[CloudFrontDistribution]
    )
    if pages is None:
        return
    items = [item for page in pages for item in (page.get("DistributionList") or {}).get("Items") or []]
    tags = resource_tags(ctx, "cloudfront:distribution", region="us-east-1") if items else {}
    for item in items:
        found = distribution(item, ctx.account_id)
        found.tags = tags.get(found.id, {})
        ctx.add(found)


def _items(container: Any) -> list[Any]:
    return list((container or {}).get("Items") or [])


def behavior(item: dict[str, Any], path: str) -> CacheBehavior:
    return CacheBehavior(
        path_pattern=path,
        viewer_protocol_policy=item.get("ViewerProtocolPolicy"),
        target_origin_id=item.get("TargetOriginId"),
        lambda_function_arns=[a["LambdaFunctionARN"] for a in _items(item.get("LambdaFunctionAssociations"))],
    )


def origin(item: dict[str, Any]) -> Origin:
    custom = item.get("CustomOriginConfig")
    if item.get("S3OriginConfig") is not None and custom is None:
        kind = "s3"
    elif item.get("VpcOriginConfig") is not None:
        kind = "vpc"
    else:
        kind = "custom"
    return Origin(
        origin_id=item.get("Id", "?"),
        domain_name=item.get("DomainName", ""),
        kind=kind,
        origin_protocol_policy=(custom or {}).get("OriginProtocolPolicy") if custom else None,
        origin_ssl_protocols=_items((custom or {}).get("OriginSslProtocols")),
        origin_access_control_id=item.get("OriginAccessControlId") or None,
        origin_access_identity=((item.get("S3OriginConfig") or {}).get("OriginAccessIdentity")) or None,
    )


def distribution(item: dict[str, Any], account_id: str) -> CloudFrontDistribution:
    behaviors = [behavior(item.get("DefaultCacheBehavior") or {}, DEFAULT_PATH)]
    behaviors += [behavior(b, b.get("PathPattern", "?")) for b in _items(item.get("CacheBehaviors"))]
    certificate = item.get("ViewerCertificate") or {}
    geo = (item.get("Restrictions") or {}).get("GeoRestriction") or {}
    aliases = _items(item.get("Aliases"))
    return CloudFrontDistribution(
        id=item.get("ARN") or f"arn:aws:cloudfront::{account_id}:distribution/{item['Id']}",
        name=aliases[0] if aliases else item["Id"],
        account_id=account_id,
        region=None,
        domain_name=item.get("DomainName"),
        enabled=item.get("Enabled"),
        aliases=aliases,
        cache_behaviors=behaviors,
        origins=[origin(o) for o in _items(item.get("Origins"))],
        origin_groups={
            str(group.get("Id")): [str(m.get("OriginId")) for m in _items(group.get("Members"))]
            for group in _items(item.get("OriginGroups"))
            if group.get("Id")
        },
        default_certificate=bool(certificate.get("CloudFrontDefaultCertificate"))
        or not (certificate.get("ACMCertificateArn") or certificate.get("IAMCertificateId")),
        minimum_protocol_version=certificate.get("MinimumProtocolVersion") or "TLSv1",
        ssl_support_method=certificate.get("SSLSupportMethod"),
        web_acl_id=item.get("WebACLId") or "",
        geo_restriction=GeoRestriction(
            restriction_type=geo.get("RestrictionType") or "none",
            locations=[str(c).upper() for c in _items(geo)],
        ),
    )
