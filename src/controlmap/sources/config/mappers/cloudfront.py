"""CloudFront distributions, from their configuration items, parsed by the live collector's code.

The item's ``configuration.distributionConfig`` is the API's DistributionConfig. AWS Config's
recorded shape has no ``originAccessControlId`` in older items: an S3 origin with neither an origin
access identity nor a recorded OAC field cannot be judged, so the distribution's origins are
unknown rather than failing CF-04 on a guess.
"""

from __future__ import annotations

from controlmap.resources.base import Resource
from controlmap.sources.aws.services.cloudfront import distribution
from controlmap.sources.config.casefold import CaseFolded, fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, identify, mapper


@mapper("AWS::CloudFront::Distribution")
def cloudfront_distribution(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    merged = fold(config.get("distributionConfig") or {})
    merged["id"] = config.get("id") or item.resource_id
    merged["arn"] = config.get("arn") or item.arn
    merged["domainname"] = config.get("domainName")
    model = identify(distribution(merged, item.account_id or ""), item)
    model.region = None  # global, whatever region recorded it
    raw_origins = (merged.get("origins") or {}).get("items") or []
    unjudged = [
        o.get("id")
        for o in raw_origins
        if isinstance(o, CaseFolded)
        and o.get("s3OriginConfig") is not None
        and not (o.get("s3OriginConfig") or {}).get("originAccessIdentity")
        and "originAccessControlId" not in o
    ]
    if unjudged:
        model.origins = None
        model.mark_unknown(
            "origins",
            f"the item does not record whether S3 origin(s) {', '.join(str(u) for u in unjudged)} use origin "
            "access control (OAC); run `controlmap scan aws` for CF-01, CF-02 and CF-04",
        )
    return [model]
