"""``controlmap diff``: what changed between two recorded scans, judged by the lifecycle's rules.

A finding failing in OLD and not failing in NEW is only *resolved* when NEW shows it passing
(PASS, NOT_APPLICABLE) or NEW evaluated its control where it lives and the resource is gone.
Everything else that stopped failing is reported apart, so a read that failed, a new approved
exception or a narrower scan never looks like a fix:

- *accepted*: now EXCEPTED or SUPPRESSED (an approval, not a fix);
- *undetermined*: now UNKNOWN, ERROR or MANUAL, or absent because NEW could not list it;
- *not compared*: one of the two scans did not evaluate it (other regions, services or controls).

A new failure that failed before OLD (first seen earlier) is *reopened*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controlmap.checks.registry import Status
from controlmap.findings.model import Finding
from controlmap.store.db import Store, StoreError
from controlmap.store.models import ScanRow
from controlmap.store.queries import (
    comparable,
    coverage_of,
    describe_scope,
    find_scan,
    findings_of,
    previous_comparable,
)
from controlmap.store.recorder import aware

RESOLVING = frozenset({Status.PASS, Status.NOT_APPLICABLE})
ACCEPTED = frozenset({Status.EXCEPTED, Status.SUPPRESSED})


@dataclass
class Diff:
    old: ScanRow
    new: ScanRow
    new_failures: list[Finding]  # failing in NEW, not in OLD (reopened ones included)
    resolved: list[Finding]  # failing in OLD; passing in NEW (the NEW finding), or gone (the OLD one)
    still_failing: list[Finding]
    accepted: list[Finding] = field(default_factory=list)  # failing in OLD, excepted in NEW
    undetermined: list[Finding] = field(default_factory=list)  # failing in OLD, not decided in NEW
    not_compared: list[Finding] = field(default_factory=list)  # failing in a scan the other did not cover
    gone: set[str] = field(default_factory=set)  # keys of the resolved findings whose resource is gone
    swapped: bool = False  # the scans were given newest first and were put in order

    @property
    def reopened(self) -> list[Finding]:
        """New failures that had failed before OLD ran: fixed once, broken again."""
        started = aware(self.old.started_at)
        return [f for f in self.new_failures if f.first_seen is not None and aware(f.first_seen) < started]

    @property
    def same_scope(self) -> bool:
        return comparable(self.old, self.new)

    def scope_note(self) -> str | None:
        """Why some findings were not compared, when the two scans looked at different things."""
        if self.same_scope:
            return None
        return (
            f"the scans cover different scopes ({describe_scope(self.old)} → {describe_scope(self.new)}): "
            f"only what both evaluated is compared; {len(self.not_compared)} failing finding(s) "
            "outside the other scan's scope are listed as not compared"
        )

    def to_json(self) -> dict[str, Any]:
        reopened = {f.key for f in self.reopened}
        return {
            "old_scan": self.old.id,
            "new_scan": self.new.id,
            "same_scope": self.same_scope,
            "new": [dict(f.to_json(), reopened=f.key in reopened) for f in self.new_failures],
            "resolved": [dict(f.to_json(), gone=f.key in self.gone) for f in self.resolved],
            "still_failing": [f.to_json() for f in self.still_failing],
            "accepted": [f.to_json() for f in self.accepted],
            "undetermined": [f.to_json() for f in self.undetermined],
            "not_compared": [f.to_json() for f in self.not_compared],
        }


def diff_scans(store: Store, old_ref: str | None = None, new_ref: str | None = None) -> Diff:
    """Compare two scans; default: the latest complete scan and the previous comparable one."""
    new = find_scan(store, new_ref)
    if old_ref is None:
        old = previous_comparable(store, new)
        if old is None:
            raise StoreError(
                f"scan {new.id} ({describe_scope(new)}) has no earlier complete scan of the same scope "
                "(kind, accounts or sources, regions and services); name two scans: controlmap diff OLD NEW"
            )
    else:
        old = find_scan(store, old_ref)
    swapped = aware(old.started_at) > aware(new.started_at)
    if swapped:  # `diff NEW OLD`: compare in time order, or "new" and "resolved" trade places
        old, new = new, old
    return _compare(store, old, new, swapped)


def _compare(store: Store, old: ScanRow, new: ScanRow, swapped: bool) -> Diff:
    old_list, new_list = findings_of(store, old.id), findings_of(store, new.id)
    old_findings = {f.key: f for f in old_list}
    new_findings = {f.key: f for f in new_list}
    old_cover, new_cover = coverage_of(store, old, old_list), coverage_of(store, new, new_list)
    diff = Diff(old, new, [], [], [], swapped=swapped)
    for key, before in old_findings.items():
        if before.status is not Status.FAIL:
            continue
        after = new_findings.get(key)
        if after is None:
            if not new_cover.covers_finding(before):
                diff.not_compared.append(before)
            elif not new_cover.listed(before):
                diff.undetermined.append(before)
            else:
                diff.resolved.append(before)
                diff.gone.add(key)
        elif after.status is Status.FAIL:
            diff.still_failing.append(after)
        elif after.status in RESOLVING:
            diff.resolved.append(after)
        elif after.status in ACCEPTED:
            diff.accepted.append(after)
        else:
            diff.undetermined.append(after)
    for key, after in new_findings.items():
        if after.status is not Status.FAIL or (
            key in old_findings and old_findings[key].status is Status.FAIL
        ):
            continue
        if before is not None or old_cover.covers_finding(after):
            diff.new_failures.append(after)
        else:
            diff.not_compared.append(after)
    return diff
