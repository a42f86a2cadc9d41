"""CloudTrail trails, from their configuration items (DescribeTrails' shape, parsed by the live code).

Config records a trail's settings, not its status: whether it is logging and how CloudWatch Logs
delivery goes (GetTrailStatus) stay unknown. Event selectors are not recorded either, but
``hasCustomEventSelectors: false`` says the trail uses the default one (all management events,
no data events), which is a known fact.
"""

from __future__ import annotations

from controlmap.resources.base import Resource
from controlmap.resources.cloudtrail import EventSelector
from controlmap.sources.aws.services.cloudtrail import trail_from_api
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, identify, mapper

STATUS = "a trail's status (GetTrailStatus: whether it is logging, CloudWatch Logs delivery)"


@mapper("AWS::CloudTrail::Trail")
def trail(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    config = fold(item.configuration)
    if not config.get("TrailARN"):
        config["trailarn"] = item.arn or item.resource_id
    if not config.get("Name"):
        config["name"] = item.resource_name or item.resource_id
    model = identify(trail_from_api(config, item.account_id or "", item.region or ""), item)
    custom = config.get("hasCustomEventSelectors")
    if custom is False or str(custom).lower() == "false":
        model.event_selectors = [EventSelector()]
        model.advanced_event_selectors = []
    else:
        why = (
            "the trail has custom event selectors, which AWS Config does not record"
            if custom is not None
            else "the configuration item does not say whether the trail has custom event selectors"
        )
        for fact in ("event_selectors", "advanced_event_selectors"):
            model.mark_unknown(fact, f"{why}; run `controlmap scan aws` for CT-01, CT-06 and KMS-04")
    ctx.not_recorded(model, ["is_logging", "cloudwatch_last_delivery", "cloudwatch_delivery_error"], STATUS)
    return [model]
