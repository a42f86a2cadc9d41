"""The offline search index: controls, resource types (every name), services and framework IDs.

It is written as ``search-index.js`` (``window.CONTROLMAP_SEARCH = [...]``) rather than JSON
because browsers block ``fetch()`` of local files: a script tag works on file:// and on any host.
Only catalog data goes in; scan results (resource names, tags) never do.
"""

from __future__ import annotations

import json
from typing import Any

from controlmap.catalog.models import ISO27001_2022, SOC2_2017
from controlmap.site import urls
from controlmap.site.views import SiteModel

_SHORT_FRAMEWORK_NAMES = {ISO27001_2022: "ISO 27001:2022", SOC2_2017: "SOC 2"}


def search_entries(model: SiteModel) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for view in model.types:
        rtype = view.rtype
        entries.append(
            {
                "kind": "Resource type",
                "title": rtype.title,
                "sub": rtype.id,
                "names": rtype.names(),
                "text": f"{rtype.description} {view.service_name}",
                "url": urls.resource_type(rtype.id),
                "rank": 0,
            }
        )
    for cview in model.controls:
        control = cview.control
        entries.append(
            {
                "kind": "Control",
                "title": f"{control.id} {control.title}",
                "sub": f"{control.severity.label} · {cview.service_name}"
                + (" · custom" if control.custom else ""),
                # Check IDs and the equivalents people already know (Security Hub, Config rules, CIS).
                "names": [
                    control.id,
                    *control.checks,
                    *control.equivalents.security_hub,
                    *control.equivalents.config_rules,
                    *(f"CIS {n}" for n in control.equivalents.cis_aws_v3),
                ],
                "text": f"{control.description} {control.remediation.summary}",
                "url": urls.control(control.id),
                "rank": 1,
            }
        )
    for service in model.services:
        entries.append(
            {
                "kind": "Service",
                "title": service.name,
                "sub": f"{len(service.controls)} controls",
                "names": [service.key],
                "text": service.description,
                "url": urls.service(service.key),
                "rank": 2,
            }
        )
    for fview in model.frameworks:
        key = fview.framework.key
        for req in [*fview.requirements, *fview.unlisted]:
            entries.append(
                {
                    "kind": _SHORT_FRAMEWORK_NAMES.get(key, fview.framework.name),
                    "title": f"{req.requirement.id} {req.requirement.title}",
                    "sub": f"{req.coverage.label} · {len(req.controls)} controls",
                    "names": [req.requirement.id],
                    # The key ("soc2:2017") lets "SOC2 CC6.1" and "iso27001 A.8.24" match too.
                    "text": f"{req.requirement.group} {key}",
                    "url": urls.requirement(key, req.requirement.id),
                    "rank": 3,
                }
            )
    return entries


def search_index_js(model: SiteModel) -> str:
    # ensure_ascii keeps U+2028/U+2029 and any non-ASCII escaped: the file is valid JS everywhere.
    payload = json.dumps(search_entries(model), ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return f"window.CONTROLMAP_SEARCH = {payload};\n"
