"""IAM Access Analyzer analyzers (IAM-07), from ``AWS::AccessAnalyzer::Analyzer`` items.

The items are CloudFormation-shaped (``AnalyzerName``, ``Type``) and carry no status: an analyzer
that AWS Config records is taken as active (analyzers are ACTIVE unless creation failed or an
organization's trusted access was removed). A region's analyzers are known only where the data
can show that none exists (see ``Coverage``).
"""

from __future__ import annotations

from collections import defaultdict

from controlmap.checks.registry import Inventory
from controlmap.resources.account import AccessAnalyzerFacts, AwsRegion
from controlmap.resources.base import Resource
from controlmap.sources.config.casefold import fold
from controlmap.sources.config.items import ConfigItem
from controlmap.sources.config.mappers._base import MapContext, finisher, mapper

ANALYZER = "AWS::AccessAnalyzer::Analyzer"
EXTERNAL_ACCESS_TYPES = ("ACCOUNT", "ORGANIZATION")


@mapper(ANALYZER)
def analyzer(item: ConfigItem, ctx: MapContext) -> list[Resource]:
    return []  # read by the finisher onto the region


@finisher
def region_analyzers(inventory: Inventory, ctx: MapContext) -> None:
    names: dict[tuple[str | None, str | None], list[str]] = defaultdict(list)
    for item in ctx.of_type(ANALYZER):
        config = fold(item.configuration)
        status = str(config.get("Status") or "ACTIVE").upper()
        if str(config.get("Type") or "").upper() in EXTERNAL_ACCESS_TYPES and status == "ACTIVE":
            names[(item.account_id, item.region)].append(
                str(config.get("AnalyzerName") or item.resource_name)
            )
    for region in inventory.of_type(AwsRegion):
        scope = (region.account_id, region.region)
        if ctx.coverage.knows_absence(ANALYZER, *scope):
            region.access_analyzer = AccessAnalyzerFacts(analyzer_names=sorted(names.get(scope, [])))
        else:
            region.mark_unknown("access_analyzer", ctx.coverage.why_unknown(ANALYZER, *scope))
