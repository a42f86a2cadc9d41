"""aws_cloudfront_distribution."""

from __future__ import annotations

from typing import Any

from controlmap.resources.base import Resource
from controlmap.resources.cloudfront import CacheBehavior, CloudFrontDistribution, GeoRestriction, Origin
from controlmap.sources.iac.cloudformation.mappers.cloudfront import (
    lambda_arns,
    origin_kind,
    unresolved_parts,
)
from controlmap.sources.iac.common import ResourceRef, Unresolved, first_unresolved
from controlmap.sources.iac.facts import as_list, text, to_bool, unknown
from controlmap.sources.iac.terraform.build import TfBuild, TfItem, primary
from controlmap.sources.iac.terraform.mappers._common import base, first, ref_text


def _domain(value: Any) -> tuple[str, str | None]:
    if isinstance(value, ResourceRef):
        if value.address.split(".")[-2:-1] == ["aws_s3_bucket"] or ".aws_s3_bucket." in f".{value.address}":
            if value.attribute == "website_endpoint":
                return f"{value.address}.s3-website.amazonaws.com", "custom"
            return f"{value.address}.s3.amazonaws.com", "s3"
        return str(value), None
    if isinstance(value, Unresolved):
        return value.placeholder or f"(given by {value.depends_on})", None
    return str(text(value) or ""), None


@primary("aws_cloudfront_distribution")
def distribution(item: TfItem, build: TfBuild) -> list[Resource]:
    model = CloudFrontDistribution(
        **base(item, build), aliases=[a for a in (text(v) for v in as_list(item.get("aliases"))) if a]
    )
    model.region = None
    enabled = to_bool(item.get("enabled", True))
    model.enabled = enabled if isinstance(enabled, bool) else None
    behaviors: list[tuple[str, Any]] = [("Default (*)", first(item.get("default_cache_behavior")))]
    behaviors += [
        (str(text(b.get("path_pattern")) or "?"), b)
        for b in as_list(item.get("ordered_cache_behavior"))
        if isinstance(b, dict)
    ]
    model.cache_behaviors = [
        CacheBehavior(
            path_pattern=pattern,
            viewer_protocol_policy=text(b.get("viewer_protocol_policy")),
            target_origin_id=text(b.get("target_origin_id")),
            lambda_function_arns=lambda_arns(b.get("lambda_function_association")),
            unresolved=unresolved_parts(
                f"cache behavior {pattern}",
                {"protocol": ("viewer_protocol_policy", b.get("viewer_protocol_policy"))},
            ),
        )
        for pattern, b in behaviors
        if isinstance(b, dict)
    ]
    origins = []
    for entry in as_list(item.get("origin")):
        if not isinstance(entry, dict):
            continue
        domain, hint = _domain(entry.get("domain_name"))
        custom = first(entry.get("custom_origin_config"))
        s3 = first(entry.get("s3_origin_config"))
        oai = s3.get("origin_access_identity") if isinstance(s3, dict) else None
        oac = entry.get("origin_access_control_id")
        origin_id = str(text(entry.get("origin_id")) or "?")
        has_config = any(
            entry.get(k) for k in ("s3_origin_config", "custom_origin_config", "vpc_origin_config")
        )
        origins.append(
            Origin(
                origin_id=origin_id,
                domain_name=domain,
                kind=origin_kind(domain, hint, s3 is not None, entry.get("vpc_origin_config") is not None),
                origin_protocol_policy=text(custom.get("origin_protocol_policy"))
                if isinstance(custom, dict)
                else None,
                origin_ssl_protocols=[
                    p for p in (text(v) for v in as_list(custom.get("origin_ssl_protocols"))) if p
                ]
                if isinstance(custom, dict)
                else [],
                origin_access_control_id=ref_text(oac) if oac is not None else None,
                origin_access_identity=(ref_text(oai) or None) if oai else None,
                unresolved=unresolved_parts(
                    f"origin {origin_id}",
                    {
                        "kind": ("domain_name", None if has_config else entry.get("domain_name")),
                        "protocol": (
                            "custom_origin_config.origin_protocol_policy",
                            custom.get("origin_protocol_policy") if isinstance(custom, dict) else None,
                        ),
                        "ssl protocols": (
                            "custom_origin_config.origin_ssl_protocols",
                            custom.get("origin_ssl_protocols") if isinstance(custom, dict) else None,
                        ),
                        "access": ("origin_access_control_id", oac if oac is not None else oai),
                    },
                ),
            )
        )
    model.origins = origins
    certificate = first(item.get("viewer_certificate"))
    certificate = certificate if isinstance(certificate, dict) else {}
    default = to_bool(certificate.get("cloudfront_default_certificate"))
    custom_cert = any(certificate.get(k) is not None for k in ("acm_certificate_arn", "iam_certificate_id"))
    model.default_certificate = bool(default) if default is not None else not custom_cert
    version = certificate.get("minimum_protocol_version")
    if isinstance(version, Unresolved):
        unknown(model, "minimum_protocol_version", "viewer_certificate.minimum_protocol_version", version)
    else:
        model.minimum_protocol_version = text(version) or "TLSv1"
    if isinstance(default, Unresolved):
        unknown(model, "default_certificate", "viewer_certificate.cloudfront_default_certificate", default)
    model.ssl_support_method = text(certificate.get("ssl_support_method"))
    acl = item.get("web_acl_id")
    if isinstance(acl, Unresolved) and not acl.placeholder:
        unknown(model, "web_acl_id", "web_acl_id", acl)
    else:
        model.web_acl_id = "" if acl is None else ref_text(acl) or ""
    restrictions = first(item.get("restrictions"))
    geo = first(restrictions.get("geo_restriction")) if isinstance(restrictions, dict) else None
    missing = first_unresolved(geo)
    if missing is not None:
        unknown(model, "geo_restriction", "restrictions.geo_restriction", missing)
        return [model]
    model.geo_restriction = (
        GeoRestriction(
            restriction_type=str(text(geo.get("restriction_type")) or "none"),
            locations=[c for c in (text(v) for v in as_list(geo.get("locations"))) if c],
        )
        if isinstance(geo, dict)
        else GeoRestriction()
    )
    return [model]
