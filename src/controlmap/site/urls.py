"""Where every page lives: stable, lower-case file names that double as deep links.

Paths are relative to the site root ("types/aws-s3-bucket.html"). Templates turn them into
links relative to the current page, so the site works from disk and from any sub-path of a host.
File names are derived from identifiers only through ``slug``, which keeps nothing but
``[a-z0-9-]``: scan data (account IDs) can never choose a path outside the output directory.
"""

from __future__ import annotations

import hashlib
import re

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_NON_ANCHOR = re.compile(r"[^A-Za-z0-9._-]+")

HOME = "index.html"
TYPES_INDEX = "types/index.html"
SERVICES_INDEX = "services/index.html"
CONTROLS_INDEX = "controls/index.html"
FRAMEWORKS_INDEX = "frameworks/index.html"
PLAN = "plan.html"
ACCOUNTS_INDEX = "accounts/index.html"
SEARCH = "search.html"
SEARCH_INDEX_JS = "search-index.js"


def slug(text: str) -> str:
    """'AWS::S3::Bucket' -> 'aws-s3-bucket'; 'AWS::::Account' -> 'aws-account'."""
    value = _NON_SLUG.sub("-", text.lower()).strip("-")
    if value:
        return value
    return "x-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def anchor(text: str) -> str:
    """An HTML id that keeps framework IDs readable in links: 'A.8.24' stays 'A.8.24'."""
    value = _NON_ANCHOR.sub("-", text).strip("-")
    return value or "x-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def resource_type(type_id: str) -> str:
    return f"types/{slug(type_id)}.html"


def name_alias(name: str) -> str:
    """A page per Terraform / AWS Config / CloudFormation name that leads to its resource type."""
    return f"names/{slug(name)}.html"


def control(control_id: str) -> str:
    return f"controls/{slug(control_id)}.html"


def service(service_key: str) -> str:
    return f"services/{slug(service_key)}.html"


def framework(framework_key: str) -> str:
    return f"frameworks/{slug(framework_key)}.html"


def requirement(framework_key: str, requirement_id: str) -> str:
    return f"{framework(framework_key)}#{anchor(requirement_id)}"


def account(account_id: str) -> str:
    """'111122223333' -> 'accounts/111122223333.html'. An ID that its slug does not spell
    exactly (scan files are not validated) gets a hash of itself too, so two such IDs never
    share a page ('1111-2222' and '1111_2222')."""
    name = slug(account_id)
    if name != account_id:
        name += "-" + hashlib.sha256(account_id.encode()).hexdigest()[:8]
    return f"accounts/{name}.html"


def relative_root(path: str) -> str:
    """The prefix that leads from the page at ``path`` back to the site root."""
    return "../" * path.count("/")
