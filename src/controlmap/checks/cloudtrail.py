"""CloudTrail checks (CT-01 … CT-06) and KMS-04 (KMS API calls logged), all over trail data
collected once: no check reads AWS, and KMS-04 reuses the very same trails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from controlmap.checks.policy import public_doubt, public_grants
from controlmap.checks.registry import (
    CheckContext,
    Outcome,
    Status,
    check,
    failed,
    need,
    not_applicable,
    passed,
    unknown,
)
from controlmap.resources.account import AwsAccount, AwsRegion
from controlmap.resources.cloudtrail import AdvancedEventSelector, CloudTrailTrail, FieldSelector
from controlmap.resources.s3 import ALL_USERS, AUTHENTICATED_USERS, S3Bucket
from controlmap.settings import register_section


class CloudTrailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # CT-06: services whose data events must be recorded for every resource ("s3", "lambda").
    data_events_required: list[str] = ["s3", "lambda"]
    # CT-04: how old the last CloudWatch Logs delivery may be before it counts as broken.
    cloudwatch_max_delivery_age_hours: int = 24


register_section("cloudtrail", CloudTrailSettings)

TRAIL_FACTS = ("is_logging", "multi_region", "home_region", "event_selectors", "advanced_event_selectors")
_DATA_TYPES = {"s3": ("AWS::S3::Object", "S3 object"), "lambda": ("AWS::Lambda::Function", "Lambda function")}


# ---- what a trail records ----------------------------------------------------------------------


@dataclass
class Coverage:
    """What one trail records: management events (read/write) and data events per resource type."""

    mgmt_read: bool = False
    mgmt_write: bool = False
    mgmt_excluded: set[str] = field(default_factory=set)  # event sources left out, e.g. kms.amazonaws.com
    data_all: dict[str, set[str]] = field(
        default_factory=dict
    )  # resource type -> {"read","write"}, all resources
    data_some: set[str] = field(default_factory=set)  # resource types recorded for some resources only


def _rw(read_write_type: str) -> set[str]:
    return {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}.get(
        read_write_type, set()
    )


_ALL_RESOURCES = {
    "AWS::S3::Object": ("arn:aws:s3", "arn:aws:s3:::"),
    "AWS::Lambda::Function": ("arn:aws:lambda",),
}


def _field(selector: AdvancedEventSelector, name: str) -> FieldSelector | None:
    return next((f for f in selector.field_selectors if f.field.lower() == name.lower()), None)


def _narrowing(f: FieldSelector, types: list[str]) -> bool:
    """Whether a field selector limits a data selector to some resources, events or callers.

    ``resources.ARN StartsWith arn:aws:s3:::`` (or ``arn:aws:lambda``) still means every
    resource of the type, as the same prefixes do in basic selectors.
    """
    if (
        f.field.lower() == "resources.arn"
        and f.starts_with
        and not (f.equals or f.ends_with or f.not_equals or f.not_starts_with or f.not_ends_with)
    ):
        everything = {e.rstrip("/") for t in types for e in _ALL_RESOURCES.get(t, ())}
        return not all(v.rstrip("/") in everything for v in f.starts_with)
    return bool(
        f.equals or f.starts_with or f.ends_with or f.not_equals or f.not_starts_with or f.not_ends_with
    )


def coverage(trail: CloudTrailTrail) -> Coverage | None:
    """What the trail records, or None if its selectors are unknown."""
    basic, advanced = trail.event_selectors, trail.advanced_event_selectors
    if basic is None and advanced is None:
        return None
    cov = Coverage()
    if not basic and not advanced:
        # A trail created without selectors records all management events (CloudTrail's default).
        return Coverage(mgmt_read=True, mgmt_write=True)
    for sel in basic or []:
        levels = _rw(sel.read_write_type)
        if sel.include_management_events:
            cov.mgmt_read |= "read" in levels
            cov.mgmt_write |= "write" in levels
            cov.mgmt_excluded |= set(sel.exclude_management_event_sources)
        for res in sel.data_resources:
            everything = _ALL_RESOURCES.get(res.type, ())
            if any(v.rstrip("/") in {e.rstrip("/") for e in everything} for v in res.values):
                cov.data_all.setdefault(res.type, set()).update(levels)
            else:
                cov.data_some.add(res.type)
    for adv in advanced or []:
        category = _field(adv, "eventCategory")
        read_only = _field(adv, "readOnly")
        levels = {"read", "write"}
        if read_only is not None and read_only.equals:
            levels = {"read" if v.lower() == "true" else "write" for v in read_only.equals}
        if category is not None and "Management" in category.equals:
            cov.mgmt_read |= "read" in levels
            cov.mgmt_write |= "write" in levels
            source = _field(adv, "eventSource")
            if source is not None:
                cov.mgmt_excluded |= set(source.not_equals)
                if source.equals:  # only some sources: everything else is excluded
                    cov.mgmt_excluded.add("*")
        elif category is not None and "Data" in category.equals:
            rtype = _field(adv, "resources.type")
            types = rtype.equals if rtype is not None else []
            narrowed = any(
                _narrowing(f, types)
                for f in adv.field_selectors
                if f.field.lower() in ("resources.arn", "eventname", "eventsource", "useridentity.arn")
            )
            for t in types:
                if narrowed:
                    cov.data_some.add(t)
                else:
                    cov.data_all.setdefault(t, set()).update(levels)
    return cov


def _trails(ctx: CheckContext, account_id: str | None) -> list[CloudTrailTrail]:
    return ctx.inventory.of_type(CloudTrailTrail, account_id=account_id)


def _listing_errors(ctx: CheckContext, account_id: str | None) -> list[str]:
    return [
        e.describe()
        for e in ctx.inventory.errors
        if CloudTrailTrail.resource_type in e.resource_types
        and (account_id is None or e.account_id == account_id)
    ]


def _error(reason: str) -> Outcome:
    return Outcome(Status.ERROR, reason)


# Trail facts read from GetTrailStatus and GetEventSelectors: when one of those calls failed, what
# the trail records is not known because AWS refused to say, not because the source cannot see it.
_READ_FACTS = ("is_logging", "event_selectors", "advanced_event_selectors")


def _not_known(trails: list[CloudTrailTrail]) -> Outcome:
    """UNKNOWN for trails whose status or selectors are not visible; ERROR (with the AWS error
    code) when reading them failed, so a denied or throttled call is never mistaken for a gap."""
    errors = [e for t in trails for f in _READ_FACTS if (e := t.errors.get(f)) is not None]
    names = ", ".join(dict.fromkeys(t.name for t in trails))
    if errors:
        described = "; ".join(dict.fromkeys(e.describe() for e in errors))
        return Outcome(
            Status.ERROR, f"what {names} records is not known: {described}", error_code=errors[0].code
        )
    return unknown(f"the logging status or event selectors of {names} are unknown")


# ---- CT-01: every region covered -------------------------------------------------------------


def _logging_trails(
    ctx: CheckContext, region: AwsRegion
) -> tuple[list[CloudTrailTrail], list[CloudTrailTrail]]:
    """(trails covering the region that are logging, covering trails whose status is unknown)."""
    covering = [t for t in _trails(ctx, region.account_id) if t.covers_region(region.name)]
    logging = [t for t in covering if t.is_logging]
    unsure = [t for t in covering if t.is_logging is None]
    return logging, unsure


@check(
    "cloudtrail_region_logged",
    AwsRegion,
    title="A logging trail records management events in the region",
    uses=[CloudTrailTrail],
    facts=TRAIL_FACTS,
)
def region_logged(region: AwsRegion, ctx: CheckContext) -> Outcome:
    logging, unsure = _logging_trails(ctx, region)
    full, partial = [], []
    for trail in logging:
        cov = coverage(trail)
        if cov is None:
            unsure.append(trail)  # logging, but whether it records management events is not known
        elif cov.mgmt_read and cov.mgmt_write:
            full.append(trail)
        else:
            partial.append(trail)
    if full:
        names = ", ".join(t.name for t in full)
        return passed(f"{region.name} is logged by {names}", trails=[t.id for t in full])
    errors = _listing_errors(ctx, region.account_id)
    if errors:
        return _error(
            f"no logging trail seen for {region.name}, but trails could not be listed: {'; '.join(errors)}"
        )
    if unsure:
        return _not_known(unsure)
    if partial:
        return failed(
            f"trail(s) {', '.join(t.name for t in partial)} cover {region.name} but record only "
            "some management "
            "events; record read and write management events"
        )
    return failed(
        f"no logging CloudTrail trail covers {region.name}; create a multi-region trail (or turn logging on: "
        "aws cloudtrail start-logging)"
    )


@check(
    "cloudtrail_multi_region_trail",
    AwsAccount,
    title="A multi-region trail records all management events",
    uses=[CloudTrailTrail],
    facts=TRAIL_FACTS,
)
def multi_region(account: AwsAccount, ctx: CheckContext) -> Outcome:
    trails = [t for t in _trails(ctx, account.account_id) if t.multi_region]
    good: list[CloudTrailTrail] = []
    partial: list[CloudTrailTrail] = []
    unsure = [t for t in trails if t.is_logging is None]
    for trail in trails:
        if not trail.is_logging:
            continue
        cov = coverage(trail)
        if cov is None:
            unsure.append(trail)
        else:
            (good if cov.mgmt_read and cov.mgmt_write else partial).append(trail)
    if good:
        kind = "organization " if any(t.organization_trail for t in good) else ""
        return passed(f"{kind}multi-region trail {good[0].name} is logging read and write management events")
    errors = _listing_errors(ctx, account.account_id)
    if errors:
        return _error(f"no multi-region trail seen, but trails could not be listed: {'; '.join(errors)}")
    if partial:
        return failed(
            f"multi-region trail {partial[0].name} does not record both read and write management events"
        )
    if unsure:  # a trail whose status is not visible (AWS Config data) may be the one that logs
        return _not_known(unsure)
    stopped = [t.name for t in trails if t.is_logging is False]
    if stopped:
        return failed(f"multi-region trail(s) {', '.join(stopped)} exist but are not logging; start logging")
    return failed(
        "no multi-region trail; create one with IsMultiRegionTrail true (aws cloudtrail "
        "create-trail --is-multi-region-trail)"
    )


# ---- CT-01, CT-05, CT-06 per trail ------------------------------------------------------------
#
# The account and region checks above judge what all the trails of an account record together.
# A template sees only the trails it declares, so those verdicts need the account; but a declared
# trail can be judged on its own: it is logging, it records every region, it records the data
# events. A trail that does not is excused when another trail of the same inventory does the job
# (in a live scan, the account's other trails), so these checks never contradict the account ones;
# another trail whose own facts are unknown makes the verdict UNKNOWN.


def _other_trails(ctx: CheckContext, trail: CloudTrailTrail) -> list[CloudTrailTrail]:
    return [t for t in _trails(ctx, trail.account_id) if t.id != trail.id]


def _records_management(trail: CloudTrailTrail) -> bool | None:
    """Whether the trail is logging read and write management events (None: not known)."""
    if trail.is_logging is False:
        return False
    cov = coverage(trail)
    if cov is not None and not (cov.mgmt_read and cov.mgmt_write):
        return False
    return None if trail.is_logging is None or cov is None else True


def _multi_region(trail: CloudTrailTrail) -> bool | None:
    return trail.multi_region


def _records_regions_of(trail: CloudTrailTrail) -> Callable[[CloudTrailTrail], bool | None]:
    """Whether another trail records at least the regions ``trail`` is for (None: not known)."""

    def test(other: CloudTrailTrail) -> bool | None:
        if other.multi_region:
            return True
        if other.multi_region is None:
            return None
        if trail.multi_region or trail.multi_region is None:
            return False if trail.multi_region else None  # a single-region trail covers one region
        if other.home_region is None or trail.home_region is None:
            return None
        return other.home_region == trail.home_region

    return test


def _covering(
    ctx: CheckContext, trail: CloudTrailTrail, *tests: Callable[[CloudTrailTrail], bool | None]
) -> tuple[list[str], list[str]]:
    """The other trails known to do what ``trail`` does not, and those that may (facts unknown)."""
    sure, maybe = [], []
    for other in _other_trails(ctx, trail):
        results = [test(other) for test in tests]
        if all(r is True for r in results):
            sure.append(other.name)
        elif not any(r is False for r in results):
            maybe.append(other.name)
    return sure, maybe


@check(
    "cloudtrail_trail_logging",
    CloudTrailTrail,
    title="The trail is logging read and write management events",
    uses=[CloudTrailTrail],
    facts=("is_logging", "event_selectors", "advanced_event_selectors"),
)
def trail_logging(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    logging = need(trail, "is_logging")
    cov = coverage(trail) if logging else None
    if logging and cov is None:
        need(trail, "event_selectors")
    if logging and cov is not None and cov.mgmt_read and cov.mgmt_write:
        return passed("the trail is logging read and write management events")
    if logging and cov is not None:
        recorded = "read" if cov.mgmt_read else "write" if cov.mgmt_write else "no"
        problem = f"the trail records {recorded} management events only"
        fix = "record read and write management events"
    else:
        problem = "the trail is not logging, so it records no API activity"
        fix = "turn logging on"
    cover, maybe = _covering(ctx, trail, _records_management, _records_regions_of(trail))
    if cover:
        return passed(f"{problem}, but {', '.join(cover)} records the same regions", trails=cover)
    if maybe:
        return unknown(f"{problem}; whether {', '.join(maybe)} records the same regions is not known")
    return failed(f"{problem}; {fix}", is_logging=logging)


@check(
    "cloudtrail_trail_multi_region",
    CloudTrailTrail,
    title="The trail records every region (multi-region)",
    uses=[CloudTrailTrail],
    facts=("multi_region", "home_region"),
)
def trail_multi_region(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    if need(trail, "multi_region"):
        return passed("the trail is a multi-region trail")
    where = trail.home_region or "its own region"
    cover, maybe = _covering(ctx, trail, _multi_region, _records_management)
    if cover:
        return passed(
            f"the trail records {where} only, but multi-region trail {', '.join(cover)} records every region",
            trails=cover,
        )
    if maybe:
        return unknown(
            f"the trail records {where} only; whether {', '.join(maybe)} records every region is not known"
        )
    return failed(
        f"the trail records {where} only; make it a multi-region trail, which also covers regions "
        "enabled later",
        home_region=trail.home_region,
    )


def _full_data(trails: list[CloudTrailTrail], rtype: str) -> bool | None:
    """Whether the logging multi-region trails record read and write data events of ``rtype``
    for all resources between them (None: a trail whose facts are unknown may)."""
    levels: set[str] = set()
    unsure = False
    for other in trails:
        if other.is_logging is False or other.multi_region is False:
            continue
        cov = coverage(other)
        if other.is_logging is None or other.multi_region is None or cov is None:
            unsure = True
            continue
        levels |= cov.data_all.get(rtype, set())
    return True if levels == {"read", "write"} else None if unsure else False


@check(
    "cloudtrail_trail_data_events",
    CloudTrailTrail,
    title="The trail records S3 object and Lambda invoke data events",
    uses=[CloudTrailTrail],
    facts=("is_logging", "multi_region", "event_selectors", "advanced_event_selectors"),
)
def trail_data_events(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    wanted = ctx.config(CloudTrailSettings, "cloudtrail").data_events_required
    required = [s for s in wanted if s in _DATA_TYPES]
    if not required:
        return not_applicable("cloudtrail.data_events_required lists no service")
    if not need(trail, "is_logging"):
        return not_applicable("the trail is not logging, so it records nothing (CT-01)")
    cov = coverage(trail)
    if cov is None:
        need(trail, "event_selectors")
        return unknown("the trail's event selectors are not known")
    label = {s: _DATA_TYPES[s][1] for s in required}
    missing = [s for s in required if cov.data_all.get(_DATA_TYPES[s][0], set()) != {"read", "write"}]
    if not missing:
        shown = " and ".join(label.values())
        return passed(f"the trail records read and write {shown} data events for all resources")
    others = {s: _full_data(_other_trails(ctx, trail), _DATA_TYPES[s][0]) for s in missing}
    still = [s for s in missing if others[s] is False]
    shown = " and ".join(label[s] for s in missing)
    if not still and all(others.values()):
        return passed(
            f"the trail does not record all {shown} data events itself, but another logging multi-region "
            "trail does"
        )
    if not still:
        return unknown(
            f"the trail does not record all {shown} data events itself; whether another trail does is not "
            "known"
        )
    partly = [
        label[s] for s in still if _DATA_TYPES[s][0] in cov.data_some or _DATA_TYPES[s][0] in cov.data_all
    ]
    detail = f" (only some resources or one direction of {', '.join(partly)})" if partly else ""
    types = ", ".join(_DATA_TYPES[s][0] for s in still)
    kinds = " and ".join(label[s] for s in still)
    return failed(
        f"the trail does not record read and write {kinds} data events for all resources{detail}; add an "
        f"advanced event selector (eventCategory Data, resources.type {types})",
        missing=still,
    )


# ---- CT-02, CT-03, CT-04: per trail ---------------------------------------------------------


@check(
    "cloudtrail_trail_log_file_validation",
    CloudTrailTrail,
    title="Log file validation is on",
    facts=("log_file_validation",),
)
def log_file_validation(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    if need(trail, "log_file_validation"):
        return passed("log file integrity validation is enabled")
    return failed(
        "log file validation is off; set EnableLogFileValidation (aws cloudtrail update-trail "
        "--enable-log-file-validation)"
    )


@check(
    "cloudtrail_trail_logs_encrypted",
    CloudTrailTrail,
    title="Trail logs are encrypted with SSE-KMS",
    facts=("kms_key_id",),
)
def logs_encrypted(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    key = need(trail, "kms_key_id")
    if key:
        return passed(f"log files are encrypted with KMS key {key}")
    return failed("log files use SSE-S3 only; set KmsKeyId to a customer managed KMS key")


def _bucket(ctx: CheckContext, trail: CloudTrailTrail) -> S3Bucket | None:
    name = trail.s3_bucket_name
    if not name:
        return None
    found = ctx.inventory.by_id(f"arn:aws:s3:::{name}")
    return found if isinstance(found, S3Bucket) else None


def _block_on(ctx: CheckContext, bucket: S3Bucket, switch: str) -> bool:
    blocks = [bucket.public_access_block]
    accounts = ctx.inventory.of_type(AwsAccount, account_id=bucket.account_id)
    if accounts:
        blocks.append(accounts[0].s3_public_access_block)
    return any(b is not None and getattr(b, switch) for b in blocks)


def _missing_bucket(trail: CloudTrailTrail) -> Outcome:
    return unknown(
        f"log bucket {trail.s3_bucket_name} is not in the scanned inventory (another account, such as a log "
        "archive account, or a region not scanned); check it where it lives"
    )


@check(
    "cloudtrail_trail_bucket_not_public",
    CloudTrailTrail,
    title="The trail's log bucket is not public",
    uses=[S3Bucket, AwsAccount],
    facts=(
        "s3_bucket_name",
        "policy",
        "acl_grants",
        "object_ownership",
        "public_access_block",
        "s3_public_access_block",
    ),
)
def bucket_not_public(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    need(trail, "s3_bucket_name")
    bucket = _bucket(ctx, trail)
    if bucket is None:
        return _missing_bucket(trail)
    problems = []
    undecided = None
    if not _block_on(ctx, bucket, "restrict_public_buckets"):
        policy = need(bucket, "policy")
        grants = public_grants(policy, action_filter=["s3:*"])
        problems += [grant.describe() for grant in grants]
        undecided = public_doubt(policy, grants, action_filter=["s3:*"])
    if bucket.object_ownership != "BucketOwnerEnforced" and not _block_on(ctx, bucket, "ignore_public_acls"):
        for g in need(bucket, "acl_grants"):
            if g.grantee in (ALL_USERS, AUTHENTICATED_USERS):
                problems.append(f"the ACL grants {g.permission} to {g.grantee.rsplit('/', 1)[-1]}")
    acl_public = any(p.startswith("the ACL") for p in problems)
    if problems and (acl_public or not undecided):
        return failed(f"log bucket {bucket.name} is public: {'; '.join(problems)}", bucket=bucket.name)
    if undecided:
        return unknown(
            f"whether log bucket {bucket.name} is public depends on {undecided}", bucket=bucket.name
        )
    return passed(f"log bucket {bucket.name} grants nothing to everyone", bucket=bucket.name)


@check(
    "cloudtrail_trail_bucket_access_logging",
    CloudTrailTrail,
    title="The trail's log bucket has server access logging",
    uses=[S3Bucket],
    facts=("s3_bucket_name", "logging"),
)
def bucket_access_logging(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    need(trail, "s3_bucket_name")
    bucket = _bucket(ctx, trail)
    if bucket is None:
        return _missing_bucket(trail)
    logging = need(bucket, "logging")
    if logging.enabled and logging.target_bucket != bucket.name:
        return passed(f"log bucket {bucket.name} logs access to {logging.target_bucket}")
    return failed(f"log bucket {bucket.name} has no server access logging to a separate bucket; enable it")


@check(
    "cloudtrail_trail_cloudwatch_logs",
    CloudTrailTrail,
    title="The trail delivers to CloudWatch Logs",
    facts=("cloudwatch_log_group_arn", "cloudwatch_last_delivery", "cloudwatch_delivery_error", "is_logging"),
)
def cloudwatch_logs(trail: CloudTrailTrail, ctx: CheckContext) -> Outcome:
    group = need(trail, "cloudwatch_log_group_arn")
    if not group:
        return failed(
            "the trail does not deliver to CloudWatch Logs; set CloudWatchLogsLogGroupArn and "
            "CloudWatchLogsRoleArn"
        )
    if trail.is_logging is False:
        return failed(f"the trail is not logging, so nothing reaches {group}; start logging")
    if trail.cloudwatch_delivery_error:
        return failed(
            f"delivery to {group} fails: {trail.cloudwatch_delivery_error}; check the delivery role"
        )
    max_age = timedelta(hours=ctx.config(CloudTrailSettings, "cloudtrail").cloudwatch_max_delivery_age_hours)
    last = trail.cloudwatch_last_delivery
    if last is not None and ctx.now - last > max_age and trail.is_logging:
        return failed(f"the last delivery to {group} was on {last.isoformat()}; delivery has stopped")
    return passed(f"the trail delivers to {group}", log_group=group)


# ---- CT-06: data events ----------------------------------------------------------------------


def _data_events(account: AwsAccount, ctx: CheckContext, service: str) -> Outcome:
    if service not in ctx.config(CloudTrailSettings, "cloudtrail").data_events_required:
        return not_applicable(f"cloudtrail.data_events_required does not list {service}")
    rtype, label = _DATA_TYPES[service]
    levels: set[str] = set()
    some: list[str] = []
    unknown_trails: list[CloudTrailTrail] = []
    recording = []
    for trail in _trails(ctx, account.account_id):
        if not trail.multi_region or trail.is_logging is False:
            continue
        cov = coverage(trail) if trail.is_logging else None
        if cov is None:
            unknown_trails.append(trail)
            continue
        if rtype in cov.data_all:
            levels |= cov.data_all[rtype]
            recording.append(trail.name)
        elif rtype in cov.data_some:
            some.append(trail.name)
    if levels == {"read", "write"}:
        verb = "records" if len(recording) == 1 else "record"
        return passed(f"{', '.join(recording)} {verb} read and write {label} data events for all resources")
    errors = _listing_errors(ctx, account.account_id)
    if errors:
        return _error(f"trails could not be listed: {'; '.join(errors)}")
    if unknown_trails:
        return _not_known(unknown_trails)
    if levels:
        return failed(
            f"{label} data events are recorded for {'/'.join(sorted(levels))} only; record read and write"
        )
    if some:
        return failed(
            f"{', '.join(some)} {'records' if len(some) == 1 else 'record'} {label} data events for some "
            "resources only; add an advanced "
            "event selector "
            f"for all {rtype} (eventCategory Data, resources.type {rtype}) on a multi-region trail"
        )
    return failed(
        f"no logging multi-region trail records {label} data events; add an advanced event selector "
        f"(eventCategory = Data, resources.type = {rtype})"
    )


@check(
    "cloudtrail_s3_data_events",
    AwsAccount,
    title="S3 object data events are recorded",
    uses=[CloudTrailTrail],
    facts=TRAIL_FACTS,
)
def s3_data_events(account: AwsAccount, ctx: CheckContext) -> Outcome:
    return _data_events(account, ctx, "s3")


@check(
    "cloudtrail_lambda_data_events",
    AwsAccount,
    title="Lambda invoke data events are recorded",
    uses=[CloudTrailTrail],
    facts=TRAIL_FACTS,
)
def lambda_data_events(account: AwsAccount, ctx: CheckContext) -> Outcome:
    return _data_events(account, ctx, "lambda")


# ---- KMS-04: KMS API calls logged --------------------------------------------------------------


@check(
    "kms_api_calls_logged",
    AwsRegion,
    title="CloudTrail records KMS API calls in the region",
    uses=[CloudTrailTrail],
    facts=TRAIL_FACTS,
)
def kms_logged(region: AwsRegion, ctx: CheckContext) -> Outcome:
    logging, unsure = _logging_trails(ctx, region)
    gaps = []
    for trail in logging:
        cov = coverage(trail)
        if cov is None:
            unsure.append(trail)
            continue
        excluded = "kms.amazonaws.com" in cov.mgmt_excluded or "*" in cov.mgmt_excluded
        if cov.mgmt_read and cov.mgmt_write and not excluded:
            return passed(
                f"{trail.name} records read and write management events, KMS included, in {region.name}"
            )
        if excluded:
            gaps.append(f"{trail.name} excludes kms.amazonaws.com events")
        else:
            gaps.append(
                f"{trail.name} records only "
                f"{'read' if cov.mgmt_read else 'write' if cov.mgmt_write else 'no'} management events"
            )
    errors = _listing_errors(ctx, region.account_id)
    if errors:
        return _error(f"trails could not be listed: {'; '.join(errors)}")
    if unsure:
        return _not_known(unsure)
    if gaps:
        return failed(f"KMS API calls in {region.name} are not fully logged: {'; '.join(gaps)}")
    return failed(
        f"no logging trail covers {region.name}, so KMS API calls there are not logged; create a "
        "multi-region trail"
    )
