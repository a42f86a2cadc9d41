"""Configuration items from every form AWS Config hands them out in, as one typed record.

Accepted (recognised by content, gzip or not):

* a snapshot or history file from the S3 delivery channel:
  ``{"fileVersion": ..., "configurationItems": [...]}`` (``configuration`` is an object,
  ``ARN`` and ``awsAccountId`` spelled that way);
* ``aws configservice get-resource-config-history``: ``{"configurationItems": [...]}``;
* ``aws configservice batch-get-resource-config``: ``{"baseConfigurationItems": [...]}`` (and the
  aggregator's ``BaseConfigurationItems``), ``configuration`` and supplementary values as JSON text;
* ``aws configservice select-resource-config`` / ``select-aggregate-resource-config``:
  ``{"Results": ["<json>", ...]}``;
* a change notification (``{"configurationItem": {...}}``), also inside its SNS envelope
  (``Message`` as JSON text) or an EventBridge event (``detail``), and
  ``get-aggregate-resource-config`` (``{"ConfigurationItem": {...}}``);
* one item, or a JSON list of items or notifications.

UTF-8 (with or without a byte order mark) and UTF-16 with a byte order mark are read.

A problem with one item names the file, the item's index and its resource ID, and the other
items are still read.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from controlmap.sources.config.casefold import decode_json_text

# Statuses of an item that describes a resource that no longer exists or is no longer recorded.
GONE_STATUSES = frozenset({"ResourceDeleted", "ResourceDeletedNotRecorded", "ResourceNotRecorded"})
GLOBAL_REGIONS = frozenset({"global", ""})
# Global resources: older items carry the region that recorded them, newer ones "global"; either
# way they are one resource, so they are keyed without a region.
GLOBAL_TYPES = frozenset(
    {
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::CloudFront::Distribution",
    }
)


class ConfigDataError(ValueError):
    """A file or item that is not AWS Config data; the message says where and why."""


@dataclass(frozen=True)
class ItemProblem:
    source: str  # file path, or "aws-config:<region>"
    message: str
    index: int | None = None  # 0-based position of the item in its file
    resource_id: str | None = None
    code: str = "config-data"  # an AWS error code for failed reads from AWS Config
    # What the problem leaves unseen, when known: checks of that type then report ERROR, not "none".
    resource_type: str | None = None
    account_id: str | None = None
    region: str | None = None

    def detail(self) -> str:
        """The message with the item it is about (the file is named separately)."""
        where = f"item {self.index}" if self.index is not None else ""
        if self.resource_id:
            where += f" ({self.resource_id})" if where else self.resource_id
        elif not where and self.resource_type:
            where = self.resource_type  # a failed read of a whole type
        return f"{where}: {self.message}" if where else self.message

    def describe(self) -> str:
        return f"{self.source}: {self.detail()}"


@dataclass
class ConfigItem:
    """One configuration item, whatever form it came in."""

    resource_type: str
    resource_id: str
    resource_name: str | None
    arn: str | None
    account_id: str | None
    region: str | None  # None for global resources (IAM: awsRegion "global")
    status: str | None
    capture_time: datetime | None
    configuration: dict[str, Any]
    # None when the item carries no supplementaryConfiguration at all (a select query that did
    # not ask for it): facts that live there are then unknown, not absent.
    supplementary: dict[str, Any] | None
    tags: dict[str, str] | None  # None: the form carries no tags (batch-get answers)
    origin: str = ""
    index: int | None = None

    @property
    def gone(self) -> bool:
        return self.status in GONE_STATUSES

    @property
    def key(self) -> tuple[str, str | None, str | None, str]:
        return (self.resource_type, self.account_id, self.region, self.resource_id)

    def where(self) -> str:
        text = self.origin
        if self.index is not None:
            text += f" item {self.index}"
        return f"{text} ({self.resource_type} {self.resource_id})"

    def supplement(self, name: str) -> Any:
        """A supplementary configuration value, decoded; None when the item does not have it."""
        if self.supplementary is None:
            return None
        return decode_json_text(self.supplementary.get(name))


# ---- reading -------------------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigDataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ConfigDataError(f"{path}: not a valid gzip file: {exc}") from None
    return data


def load_document(path: Path) -> Any:
    data = read_bytes(path)
    if not data.strip():
        raise ConfigDataError(f"{path}: empty file (expected AWS Config JSON)")
    # PowerShell 5 redirects (`aws configservice ... > out.json`) write UTF-16 with a byte order mark.
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return json.loads(data.decode(encoding))
    except UnicodeDecodeError:
        what = "valid UTF-16" if encoding == "utf-16" else "UTF-8"
        raise ConfigDataError(f"{path}: not {what} text (expected AWS Config JSON)") from None
    except json.JSONDecodeError as exc:
        raise ConfigDataError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None


def raw_items(document: Any, source: str) -> tuple[str, list[Any]]:
    """(format name, raw items) of a parsed document; ConfigDataError if it is not Config data."""
    if isinstance(document, list):
        return "item list", [_listed(e) for e in document]
    if not isinstance(document, dict):
        raise ConfigDataError(f"{source}: not AWS Config data (a JSON {type(document).__name__})")
    for key, name in (
        ("configurationItems", "snapshot/history" if "fileVersion" in document else "config history"),
        ("baseConfigurationItems", "batch-get-resource-config"),
        ("BaseConfigurationItems", "batch-get-aggregate-resource-config"),
        ("Results", "select-resource-config"),
    ):
        if key in document:
            items = document[key]
            if not isinstance(items, list):
                raise ConfigDataError(f"{source}: {key} is not a list")
            if key == "Results":
                return name, _select_rows(document, items, source)
            return name, items
    try:
        notified = notification_item(document)
    except ConfigDataError as exc:
        raise ConfigDataError(f"{source}: {exc}") from None
    if notified is not None:
        return "change notification", [notified]
    if "resourceType" in document:
        return "configuration item", [document]
    raise ConfigDataError(
        f"{source}: not AWS Config data: expected configurationItems (snapshot, history), "
        "baseConfigurationItems (batch-get-resource-config) or Results (select-resource-config)"
    )


def _listed(entry: Any) -> Any:
    """An entry of a JSON list: an item, or a notification around one (an oversized notification
    stays as it is and is reported as the bad item it is, with its index)."""
    if not isinstance(entry, dict):
        return entry
    try:
        return notification_item(entry) or entry
    except ConfigDataError:
        return entry


def notification_item(document: dict[str, Any]) -> dict[str, Any] | None:
    """The configuration item of a change notification, as SNS, EventBridge or
    ``get-aggregate-resource-config`` hand it out; None if the document is none of them."""
    if isinstance(document.get("Message"), str):  # the SNS envelope: the notification as JSON text
        inner = decode_json_text(document["Message"])
        document = inner if isinstance(inner, dict) else {}
    if isinstance(document.get("detail"), dict):  # an EventBridge event
        document = document["detail"]
    for key in ("configurationItem", "ConfigurationItem"):
        if isinstance(document.get(key), dict):
            return dict(document[key])
    if document.get("messageType") == "OversizedConfigurationItemChangeNotification":
        summary = document.get("configurationItemSummary") or {}
        where = (document.get("s3DeliverySummary") or {}).get("s3BucketLocation") or "the delivery bucket"
        raise ConfigDataError(
            f"an oversized change notification for {summary.get('resourceType', '?')} "
            f"{summary.get('resourceId', '?')} carries no item: AWS Config delivered it to {where}; "
            "read that file instead"
        )
    return None


def _select_rows(document: dict[str, Any], rows: list[Any], source: str) -> list[Any]:
    """Rows of an advanced query. ``QueryInfo.SelectFields`` says what the query selected: a row
    without the whole ``configuration`` cannot be judged (a security group whose rules were not
    selected would pass), and part of ``supplementaryConfiguration`` is dropped, since a bucket
    setting missing from it would read as "not set"."""
    info = document.get("QueryInfo")
    fields = info.get("SelectFields") if isinstance(info, dict) else None
    # An empty or missing list says nothing (hand-made extracts): the rows are taken as they are.
    selected = (
        {str(f.get("Name")) for f in fields if isinstance(f, dict)} if isinstance(fields, list) else set()
    )
    names = selected or None
    if names is not None and "configuration" not in names:
        parts = sorted(n for n in names if n.startswith("configuration."))
        raise ConfigDataError(
            f"{source}: the query selects {', '.join(parts) if parts else 'no configuration'}, not the "
            "whole configuration, so its resources cannot be judged; select configuration (and "
            "supplementaryConfiguration, tags) as in docs/aws-config.md"
        )
    parsed = [_select_result(r) for r in rows]
    if names is not None and "supplementaryConfiguration" not in names:
        for row in parsed:
            if isinstance(row, dict):
                row.pop("supplementaryConfiguration", None)  # partial: unknown, not absent
    return parsed


def _select_result(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value  # reported as a bad item with its index
    return value


def parse_items(raw: Iterable[Any], source: str) -> tuple[list[ConfigItem], list[ItemProblem]]:
    items: list[ConfigItem] = []
    problems: list[ItemProblem] = []
    for index, entry in enumerate(raw):
        try:
            items.append(parse_item(entry, source, index))
        except ConfigDataError as exc:
            problems.append(_problem(entry, source, index, str(exc)))
    return items, problems


def _problem(entry: Any, source: str, index: int, message: str) -> ItemProblem:
    """A bad item's problem, with whatever identity the raw entry still shows."""
    if not isinstance(entry, dict):
        return ItemProblem(source, message, index)
    resource_type = _first(entry, "resourceType", "ResourceType")
    resource_type = resource_type if isinstance(resource_type, str) else None
    return ItemProblem(
        source,
        message,
        index,
        _text(_first(entry, "resourceId", "ResourceId")),
        resource_type=resource_type,
        account_id=_valid(_account, entry, resource_type),
        region=item_region(resource_type, _valid(_region, entry, resource_type)),
    )


def _valid(read: Any, entry: dict[str, Any], resource_type: str | None) -> str | None:
    """The account or region of a bad item, or None where that is what is wrong with it (its
    ERROR findings must not stand in an account or region of their own)."""
    try:
        value: str | None = read(entry, resource_type, None)
    except ConfigDataError:
        return None
    return value


def read_file(path: Path) -> tuple[list[ConfigItem], list[ItemProblem], str]:
    """Items, item-level problems and the recognised format of one file (ConfigDataError if unusable)."""
    document = load_document(path)
    fmt, raw = raw_items(document, str(path))
    items, problems = parse_items(raw, str(path))
    return items, problems, fmt


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _first(entry: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if entry.get(key) not in (None, ""):
            return entry[key]
    return None


def parse_item(entry: Any, source: str, index: int | None = None) -> ConfigItem:
    if not isinstance(entry, dict):
        raise ConfigDataError(f"not a configuration item (a JSON {type(entry).__name__})")
    resource_type = _first(entry, "resourceType", "ResourceType")
    resource_id = _first(entry, "resourceId", "ResourceId")
    if not isinstance(resource_type, str) or not resource_type:
        raise ConfigDataError("configuration item has no resourceType")
    if resource_id is None:
        raise ConfigDataError(f"{resource_type} configuration item has no resourceId")
    configuration = decode_json_text(entry.get("configuration"))
    if configuration is None:
        configuration = {}
    if not isinstance(configuration, dict):
        raise ConfigDataError(
            f"configuration of {resource_type} {resource_id} is not a JSON object "
            f"(got {type(configuration).__name__})"
        )
    supplementary = entry.get("supplementaryConfiguration")
    if supplementary is not None:
        supplementary = decode_json_text(supplementary)
        if not isinstance(supplementary, dict):
            raise ConfigDataError(
                f"supplementaryConfiguration of {resource_type} {resource_id} is not an object"
            )
    return ConfigItem(
        resource_type=resource_type,
        resource_id=str(resource_id),
        resource_name=_text(_first(entry, "resourceName", "ResourceName")),
        arn=_text(_first(entry, "arn", "ARN", "Arn")),
        account_id=_account(entry, resource_type, resource_id),
        region=item_region(resource_type, _region(entry, resource_type, resource_id)),
        status=_text(entry.get("configurationItemStatus")),
        capture_time=parse_time(entry.get("configurationItemCaptureTime")),
        configuration=configuration,
        supplementary=supplementary,
        tags=tags_of(entry["tags"]) if "tags" in entry else None,
        origin=source,
        index=index,
    )


_ACCOUNT_ID = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+|global", re.IGNORECASE)


def _account(entry: dict[str, Any], resource_type: str, resource_id: Any) -> str | None:
    """The item's account: 12 digits as AWS writes it. Anything else (a number that lost its
    leading zeros in a spreadsheet or jq, a typo) would make its own "account" in every verdict
    and in the history, so the item is reported instead."""
    value = _first(entry, "accountId", "awsAccountId", "AccountId")
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _ACCOUNT_ID.fullmatch(text):
        raise ConfigDataError(f"{resource_type} {resource_id}: account ID {text!r} is not 12 digits")
    return text


def _region(entry: dict[str, Any], resource_type: str, resource_id: Any) -> str | None:
    value = _first(entry, "awsRegion", "AwsRegion")
    if value is None:
        return None
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise ConfigDataError(f"{resource_type} {resource_id}: awsRegion {value!r} is not an AWS region")
    return value


def item_region(resource_type: str | None, region: str | None) -> str | None:
    """The region an item is keyed by: None for global resources, whichever region recorded them."""
    if region is None or region.lower() in GLOBAL_REGIONS or resource_type in GLOBAL_TYPES:
        return None
    return region


def tags_of(value: Any) -> dict[str, str]:
    """Tags as a map ({"k": "v"}) or as Config's list form ([{"key": "k", "value": "v"}])."""
    value = decode_json_text(value)
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for tag in value or []:
        if isinstance(tag, dict):
            key = _first(tag, "key", "Key")
            if key is not None:
                val = tag.get("value", tag.get("Value"))
                out[str(key)] = "" if val is None else str(val)
    return out


def parse_time(value: Any) -> datetime | None:
    """ISO text (``...Z``), epoch seconds or epoch milliseconds, as Config writes them."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
