"""AWS::CloudFront::Distribution.

Without a ViewerCertificate a distribution uses the default *.cloudfront.net certificate
(which allows TLSv1); without WebACLId it has no web ACL; without Restrictions no geo restriction.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.cloudfront import CacheBehavior, CloudFrontDistribution, GeoRestriction, Origin
from controlmap.sources.iac.cloudformation.build import CfnBuild, CfnItem, primary
from controlmap.sources.iac.cloudformation.mappers._common import opaque_text, tags
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved, opaque
from controlmap.sources.iac.facts import as_list, dig, reference_text, text, to_bool, unknown


def origin_domain(value: Any, build: CfnBuild | None = None) -> tuple[str, str | None]:
    """(domain, kind hint) of an origin's DomainName, seeing through references to buckets."""
    if isinstance(value, ResourceRef):
        attribute = value.attribute or ""
        if build is not None:
            item = build.items.get(value.address)
            if item is not None and item.type == "AWS::S3::Bucket":
                name = build.physical(ResourceRef(value.address))
                shown = name if isinstance(name, str) else value.address
                if attribute == "WebsiteURL":
                    return f"{shown}.s3-website.amazonaws.com", "custom"
                return f"{shown}.s3.amazonaws.com", "s3"
        return str(value), None
    if isinstance(value, Unresolved):
        return value.placeholder or f"(given by {value.depends_on})", None
    return str(text(value) or ""), None


def origin_kind(domain: str, hint: str | None, s3_config: bool, vpc_config: bool) -> str:
    if vpc_config:
        return "vpc"
    if hint is not None:
        return hint
    if ".s3-website" in domain:
        return "custom"
    if s3_config or ".s3." in domain or domain.endswith(".s3.amazonaws.com"):
        return "s3"
    return "custom"


# Parts whose value names something (a domain, an access control id): text around an unknown
# part fixes enough of it. For the others (a protocol policy, TLS versions) any unknown part does.
_NAMING_PARTS = frozenset({"kind", "access"})


def unresolved_parts(where: str, parts: dict[str, tuple[str, Any]]) -> dict[str, str]:
    """The parts (``{"protocol": ("ViewerProtocolPolicy", value)}``) whose value the scan cannot
    know, each with what it depends on."""
    out: dict[str, str] = {}
    for part, (name, value) in parts.items():
        test = opaque if part in _NAMING_PARTS else first_unresolved
        missing = next((test(v) for v in as_list(value) if test(v)), None)
        if missing is not None:
            out[part] = f"{where}.{name} depends on {missing.depends_on}"
    return out


def lambda_arns(associations: Any) -> list[str]:
    out = []
    for entry in as_list(associations):
        if isinstance(entry, dict):
            arn = entry.get("LambdaFunctionARN", entry.get("lambda_arn"))
            shown = reference_text(arn) if not isinstance(arn, Unresolved) else arn.placeholder
            if shown:
                out.append(shown)
    return out


@primary("AWS::CloudFront::Distribution")
def distribution(item: CfnItem, build: CfnBuild) -> list[Resource]:
    config = item.props.get("DistributionConfig") or {}
    model = CloudFrontDistribution(
        id=build.resource_id(item.logical_id),
        name=item.logical_id,
        tags=tags(item),
        source=item.source,
        aliases=[a for a in (text(v) for v in as_list(config.get("Aliases"))) if a],
    )
    enabled = to_bool(config.get("Enabled", True))
    model.enabled = enabled if isinstance(enabled, bool) else None
    behaviors_raw = [("Default (*)", config.get("DefaultCacheBehavior"))]
    behaviors_raw += [
        (str(text(b.get("PathPattern")) or "?"), b)
        for b in as_list(config.get("CacheBehaviors"))
        if isinstance(b, dict)
    ]
    missing = first_unresolved([b for _, b in behaviors_raw])
    if missing is not None:
        unknown(model, "cache_behaviors", "CacheBehaviors", missing)
    else:
        model.cache_behaviors = [
            CacheBehavior(
                path_pattern=pattern,
                viewer_protocol_policy=text(dig(b, "ViewerProtocolPolicy")),
                target_origin_id=text(dig(b, "TargetOriginId")),
                lambda_function_arns=lambda_arns(dig(b, "LambdaFunctionAssociations")),
                unresolved=unresolved_parts(
                    f"cache behavior {pattern}",
                    {"protocol": ("ViewerProtocolPolicy", dig(b, "ViewerProtocolPolicy"))},
                ),
            )
            for pattern, b in behaviors_raw
            if isinstance(b, dict)
        ]
    origins: list[Origin] = []
    for entry in as_list(config.get("Origins")):
        if not isinstance(entry, dict):
            continue
        domain, hint = origin_domain(entry.get("DomainName"), build)
        custom = entry.get("CustomOriginConfig")
        oai = dig(entry, "S3OriginConfig", "OriginAccessIdentity")
        oac = entry.get("OriginAccessControlId")
        origin_id = str(text(entry.get("Id")) or "?")
        has_config = any(k in entry for k in ("S3OriginConfig", "CustomOriginConfig", "VpcOriginConfig"))
        origins.append(
            Origin(
                origin_id=origin_id,
                domain_name=domain,
                kind=origin_kind(domain, hint, "S3OriginConfig" in entry, "VpcOriginConfig" in entry),
                origin_protocol_policy=text(dig(custom, "OriginProtocolPolicy")),
                origin_ssl_protocols=[
                    p for p in (text(v) for v in as_list(dig(custom, "OriginSSLProtocols"))) if p
                ],
                origin_access_control_id=opaque_text(oac) if oac is not None and not opaque(oac) else None,
                origin_access_identity=(reference_text(oai) or None) if oai else None,
                unresolved=unresolved_parts(
                    f"origin {origin_id}",
                    {
                        "kind": ("DomainName", None if has_config else entry.get("DomainName")),
                        "protocol": (
                            "CustomOriginConfig.OriginProtocolPolicy",
                            dig(custom, "OriginProtocolPolicy"),
                        ),
                        "ssl protocols": (
                            "CustomOriginConfig.OriginSSLProtocols",
                            dig(custom, "OriginSSLProtocols"),
                        ),
                        "access": ("OriginAccessControlId", oac if oac is not None else oai),
                    },
                ),
            )
        )
    model.origins = origins
    certificate = config.get("ViewerCertificate")
    if isinstance(certificate, Unresolved):
        unknown(model, "default_certificate", "ViewerCertificate", certificate)
    else:
        certificate = certificate if isinstance(certificate, dict) else {}
        default = to_bool(certificate.get("CloudFrontDefaultCertificate"))
        custom_cert = any(k in certificate for k in ("AcmCertificateArn", "IamCertificateId"))
        model.default_certificate = bool(default) if default is not None else not custom_cert
        version = certificate.get("MinimumProtocolVersion")
        if isinstance(version, Unresolved):
            unknown(model, "minimum_protocol_version", "ViewerCertificate.MinimumProtocolVersion", version)
        else:
            model.minimum_protocol_version = text(version) or "TLSv1"
        if isinstance(default, Unresolved):
            unknown(model, "default_certificate", "ViewerCertificate.CloudFrontDefaultCertificate", default)
        model.ssl_support_method = text(certificate.get("SslSupportMethod"))
    acl = config.get("WebACLId")
    if isinstance(acl, Unresolved) and not acl.placeholder:
        unknown(model, "web_acl_id", "WebACLId", acl)
    else:
        model.web_acl_id = (
            ""
            if acl is None
            else (reference_text(acl) or (acl.placeholder if isinstance(acl, Unresolved) else "")) or ""
        )
    geo = dig(config, "Restrictions", "GeoRestriction")
    if isinstance(geo, Unresolved):
        unknown(model, "geo_restriction", "Restrictions.GeoRestriction", geo)
    elif isinstance(geo, dict) and first_unresolved(geo) is not None:
        unknown(model, "geo_restriction", "Restrictions.GeoRestriction", first_unresolved(geo) or "")
    elif isinstance(geo, dict):
        model.geo_restriction = GeoRestriction(
            restriction_type=str(text(geo.get("RestrictionType")) or "none"),
            locations=[c for c in (text(v) for v in as_list(geo.get("Locations"))) if c],
        )
    else:
        model.geo_restriction = GeoRestriction()
    return [model]
