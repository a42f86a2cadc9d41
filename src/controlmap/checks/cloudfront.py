"""CloudFront checks (CF-01 … CF-05)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    check,
    failed,
    manual,
    need,
    not_applicable,
    passed,
    unknown,
)
from controlmap.resources.cloudfront import CloudFrontDistribution, Origin
from controlmap.settings import register_section

SECURE_VIEWER_POLICIES = ("https-only", "redirect-to-https")
# Security policies (MinimumProtocolVersion) that refuse TLS 1.0 and 1.1: TLSv1.2_2018 …
# TLSv1.2_2025, TLSv1.3_2025, and the "TLSv1.x_<year>" names AWS adds later.
TLS12_POLICY = re.compile(r"^TLSv1\.[2-9]_(\d{4})$")
RECOMMENDED_FROM_YEAR = 2021  # TLSv1.2_2021 and later drop the CBC and SHA-1 ciphers
WEAK_ORIGIN_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")


class CloudFrontSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # CF-05: whether every distribution must have a geo restriction, and the countries (ISO
    # 3166-1 alpha-2) every distribution must refuse. Neither set: the restriction is reported
    # for review (MANUAL), not judged.
    geo_restriction_required: bool = False
    blocked_countries: list[str] = []

    @field_validator("blocked_countries")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if len(c.strip()) != 2 or not c.strip().isalpha()]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}")
        return [c.strip().upper() for c in codes]


register_section("cloudfront", CloudFrontSettings)


# ---- CF-01: HTTPS ------------------------------------------------------------------------------


def _undecided(parts: list[tuple[str, dict[str, str]]], *keys: str) -> str | None:
    """Why a verdict depends on parts a source could not know (``unresolved``), or None."""
    found = [f"{label}: {why[k]}" for label, why in parts for k in keys if k in why]
    return "; ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "") if found else None


@check(
    "cloudfront_viewer_https_only",
    CloudFrontDistribution,
    title="Every cache behavior requires HTTPS from viewers",
    facts=("cache_behaviors",),
)
def viewer_https(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    behaviors = need(distribution, "cache_behaviors")
    plain = [
        b
        for b in behaviors
        if b.viewer_protocol_policy not in SECURE_VIEWER_POLICIES and "protocol" not in b.unresolved
    ]
    undecided = _undecided([(b.path_pattern, b.unresolved) for b in behaviors], "protocol")
    if undecided and not plain:
        return unknown(f"no cache behavior is known to accept plain HTTP, but {undecided}")
    if plain:
        listed = ", ".join(f"{b.path_pattern} ({b.viewer_protocol_policy or 'not set'})" for b in plain)
        return failed(
            f"{len(plain)} of {len(behaviors)} cache behaviors accept plain HTTP: {listed}; set "
            "ViewerProtocolPolicy to redirect-to-https or https-only",
            behaviors=[b.path_pattern for b in plain],
        )
    return passed(f"all {len(behaviors)} cache behaviors use https-only or redirect-to-https")


def _custom_origins(distribution: CloudFrontDistribution) -> list[Origin]:
    return [o for o in need(distribution, "origins") if o.kind == "custom" and "kind" not in o.unresolved]


def _maybe_kind(distribution: CloudFrontDistribution) -> list[Origin]:
    """Origins whose kind (S3 or custom) is not known: their domain is a value a source could not know."""
    return [o for o in need(distribution, "origins") if "kind" in o.unresolved]


@check(
    "cloudfront_origin_https_only",
    CloudFrontDistribution,
    title="CloudFront reaches custom origins over HTTPS",
    facts=("origins", "cache_behaviors"),
)
def origin_https(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    custom = _custom_origins(distribution)
    maybe = _maybe_kind(distribution)
    if not custom and not maybe:
        return not_applicable("no custom origins (S3 REST origins are always reached over HTTPS)")
    behaviors = distribution.cache_behaviors or []
    problems = []
    undecided = [(o.origin_id, o.unresolved) for o in maybe]
    for origin in custom:
        if "protocol" in origin.unresolved:
            undecided.append((origin.origin_id, origin.unresolved))
            continue
        policy = origin.origin_protocol_policy
        website = " (an S3 website endpoint, which only serves HTTP)" if origin.is_s3_website else ""
        if policy == "http-only":
            problems.append(f"origin {origin.origin_id} uses http-only{website}")
        elif policy == "match-viewer":
            targets = {origin.origin_id} | {
                group for group, members in distribution.origin_groups.items() if origin.origin_id in members
            }
            serving = [b for b in behaviors if b.target_origin_id in targets]
            undecided += [(b.path_pattern, b.unresolved) for b in serving if "protocol" in b.unresolved]
            if any(
                b.viewer_protocol_policy not in SECURE_VIEWER_POLICIES and "protocol" not in b.unresolved
                for b in serving
            ):
                problems.append(
                    f"origin {origin.origin_id} uses match-viewer behind a behavior that accepts HTTP"
                )
        elif policy is None:
            problems.append(f"origin {origin.origin_id} has no OriginProtocolPolicy")
    if problems:
        return failed(
            "; ".join(problems) + "; set OriginProtocolPolicy to https-only",
            origins=[o.origin_id for o in custom],
        )
    why = _undecided(undecided, "kind", "protocol")
    if why:
        return unknown(f"no custom origin is known to be reached over HTTP, but {why}")
    return passed(f"all {len(custom)} custom origins are reached over HTTPS")


# ---- CF-02: TLS ---------------------------------------------------------------------------------


@check(
    "cloudfront_viewer_tls_minimum",
    CloudFrontDistribution,
    title="Viewers must use TLS 1.2 or later",
    facts=("default_certificate", "minimum_protocol_version"),
)
def viewer_tls(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    if need(distribution, "default_certificate"):
        return failed(
            "the distribution uses the default CloudFront certificate (*.cloudfront.net), which always "
            "allows "
            "TLSv1; use a custom domain with an ACM certificate and security policy TLSv1.2_2021 or later"
        )
    version = need(distribution, "minimum_protocol_version")
    evidence = {"minimum_protocol_version": version}
    modern = TLS12_POLICY.match(version.strip())
    if modern:
        note = (
            ""
            if int(modern.group(1)) >= RECOMMENDED_FROM_YEAR or not version.startswith("TLSv1.2")
            else "; TLSv1.2_2021 or later is recommended (stronger ciphers)"
        )
        return passed(f"security policy {version} requires TLS 1.2 or later{note}", **evidence)
    return failed(
        f"security policy {version} allows protocols older than TLS 1.2; set MinimumProtocolVersion to "
        "TLSv1.2_2021",
        **evidence,
    )


@check(
    "cloudfront_origin_tls_protocols",
    CloudFrontDistribution,
    title="CloudFront does not offer SSLv3, TLS 1.0 or TLS 1.1 to origins",
    facts=("origins",),
)
def origin_tls(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    custom = [o for o in _custom_origins(distribution) if o.origin_protocol_policy != "http-only"]
    maybe = _maybe_kind(distribution) + [o for o in custom if "ssl protocols" in o.unresolved]
    if not custom and not maybe:
        return not_applicable("no custom origins reached over HTTPS (S3 REST origins use AWS-managed TLS)")
    weak = {
        o.origin_id: [p for p in o.origin_ssl_protocols if p in WEAK_ORIGIN_PROTOCOLS]
        for o in custom
        if "protocol" not in o.unresolved  # may be http-only, where TLS versions do not apply
    }
    weak = {k: v for k, v in weak.items() if v}
    maybe += [o for o in custom if "protocol" in o.unresolved and o.origin_ssl_protocols]
    if weak:
        listed = "; ".join(f"origin {k} allows {', '.join(v)}" for k, v in weak.items())
        return failed(f"{listed}; set OriginSslProtocols to TLSv1.2 only", weak=weak)
    why = _undecided([(o.origin_id, o.unresolved) for o in maybe], "kind", "ssl protocols", "protocol")
    if why:
        return unknown(f"no custom origin is known to allow protocols older than TLS 1.2, but {why}")
    return passed(f"all {len(custom)} HTTPS custom origins allow only TLS 1.2")


# ---- CF-03: WAF ----------------------------------------------------------------------------------


@check(
    "cloudfront_waf_enabled",
    CloudFrontDistribution,
    title="A web ACL is associated with the distribution",
    facts=("web_acl_id",),
)
def waf(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    acl = need(distribution, "web_acl_id")
    if not acl:
        return failed(
            "no AWS WAF web ACL is associated (WebACLId is empty); associate a WAFv2 web ACL with scope "
            "CLOUDFRONT"
        )
    if not acl.startswith("arn:") or ":wafv2:" not in acl:
        return passed(
            f"WAF Classic web ACL {acl} is associated (WAF Classic is retired; migrate to WAFv2)", web_acl=acl
        )
    return passed(
        f"web ACL {acl.rsplit('/', 2)[-2] if acl.count('/') >= 2 else acl} is associated", web_acl=acl
    )


# ---- CF-04: S3 origin access -----------------------------------------------------------------------


@check(
    "cloudfront_s3_origin_access_control",
    CloudFrontDistribution,
    title="S3 origins are reached through origin access control",
    facts=("origins",),
)
def s3_oac(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    origins = need(distribution, "origins")
    s3 = [o for o in origins if o.kind == "s3" and "kind" not in o.unresolved]
    undecided = _undecided(
        [
            (o.origin_id, o.unresolved)
            for o in origins
            if "kind" in o.unresolved or (o in s3 and "access" in o.unresolved)
        ],
        "kind",
        "access",
    )
    s3 = [o for o in s3 if "access" not in o.unresolved]
    if not s3 and undecided:
        return unknown(f"whether the S3 origins use origin access control depends on {undecided}")
    if not s3:
        return not_applicable(
            "no S3 REST origins (S3 website endpoints are custom origins and cannot use OAC)"
        )
    open_ = [o.origin_id for o in s3 if not o.origin_access_control_id and not o.origin_access_identity]
    legacy = [o.origin_id for o in s3 if not o.origin_access_control_id and o.origin_access_identity]
    if open_:
        return failed(
            f"S3 origins without origin access control or identity: {', '.join(open_)}; the bucket must be "
            "readable "
            "by everyone for CloudFront to serve it. Create an OAC, attach it and allow only the "
            "distribution in the "
            "bucket policy",
            origins=open_,
        )
    if undecided:
        return unknown(f"no S3 origin is known to be open, but {undecided}")
    if legacy:
        return passed(
            f"S3 origins use the legacy origin access identity (OAI): {', '.join(legacy)}; it works, but "
            "migrate to "
            "origin access control (SSE-KMS, all regions, short-term credentials)",
            legacy_oai=legacy,
        )
    return passed(f"all {len(s3)} S3 origins use origin access control")


# ---- CF-05: geo restriction -------------------------------------------------------------------------


@check(
    "cloudfront_geo_restriction_policy",
    CloudFrontDistribution,
    title="Geo restriction matches the organisation's policy",
    facts=("geo_restriction",),
)
def geo(distribution: CloudFrontDistribution, ctx: CheckContext) -> Outcome:
    config: CloudFrontSettings = ctx.config(CloudFrontSettings, "cloudfront")
    restriction = need(distribution, "geo_restriction")
    kind = restriction.restriction_type
    codes = sorted(c.upper() for c in restriction.locations)
    described = "no geo restriction" if kind == "none" else f"{kind} {', '.join(codes)}"
    evidence = {"restriction_type": kind, "locations": codes}
    if not config.geo_restriction_required and not config.blocked_countries:
        return manual(
            f"the distribution has {described}; no geo policy is configured "
            "(cloudfront.geo_restriction_required, "
            "cloudfront.blocked_countries) to judge it against",
            **evidence,
        )
    if kind == "none" and (config.geo_restriction_required or config.blocked_countries):
        return failed(
            "the distribution has no geo restriction; cloudfront settings require "
            + (f"blocking {', '.join(config.blocked_countries)}" if config.blocked_countries else "one"),
            **evidence,
        )
    if kind == "blacklist":
        reachable = [c for c in config.blocked_countries if c not in codes]
    else:  # whitelist: every country not listed is blocked
        reachable = [c for c in config.blocked_countries if c in codes]
    if reachable:
        return failed(
            f"the distribution ({described}) does not block {', '.join(reachable)}, which "
            "cloudfront.blocked_countries "
            "requires",
            **evidence,
            not_blocked=reachable,
        )
    return passed(f"the distribution has {described}, as the geo policy requires", **evidence)
