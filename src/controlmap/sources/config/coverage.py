"""Whether AWS Config data can show that a resource type is absent, in an account or a region.

A configuration item proves a resource exists; no item proves nothing unless the recorder
records the type there and the read of that type went through. A live read knows each region's
recording group (``recorded``); a file only shows which types it holds (``present``): one item of
a type for an account and region is taken as evidence that the type is recorded there. A failed
read (a denied listing, an item that could not be mapped) is kept in ``failed``: absence is then
never claimed for that type and scope, and the reason says what failed.

Where a type is recorded matters: IAM users, groups, roles and policies are global (one recorder
records them for the account), CloudFront distributions are recorded in us-east-1 only, the account
public access block is one setting for the account; every other type is recorded region by region,
so "none in the account" needs every scanned region to record it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The global IAM types: one recorder (includeGlobalResourceTypes) records them for the account.
IAM_TYPES = frozenset({"AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Role", "AWS::IAM::Policy"})
# Config types recorded in one region for the whole account.
HOME_REGION = {"AWS::CloudFront::Distribution": "us-east-1"}
# One resource per account, recorded by any region's recorder that records the type.
ACCOUNT_WIDE = frozenset({"AWS::S3::AccountPublicAccessBlock"})
SHOWN = 3  # regions named in a reason before "and N more"
INCLUSION = "INCLUSION_BY_RESOURCE_TYPES"
EXCLUSION = "EXCLUSION_BY_RESOURCE_TYPES"

Scope = tuple[str | None, str | None]


@dataclass
class Coverage:
    # (account, region) -> resource types recorded; a key missing: the recording group is unknown.
    # Global IAM types are kept under (account, None).
    recorded: dict[Scope, frozenset[str]] = field(default_factory=dict)
    present: set[tuple[str, str | None, str | None]] = field(default_factory=set)
    # (type, account, region) -> (error code, what failed); None in account or region: every one.
    failed: dict[tuple[str, str | None, str | None], tuple[str, str]] = field(default_factory=dict)
    no_recorder: set[Scope] = field(default_factory=set)  # read live: regions without a recorder
    # Read live: recorders that are not recording, or whose status could not be read -> which.
    not_recording: dict[Scope, str] = field(default_factory=dict)
    # Every (account, region) the data covers: read live, or holding items. "None in the account"
    # needs each of them to record the type, not only those whose recording group is known.
    regions: set[Scope] = field(default_factory=set)

    def note_recorder(
        self, account: str | None, region: str, recorded: frozenset[str], not_recording: str | None
    ) -> None:
        """What the recorder of a region records (read live, or from its own configuration item)."""
        if not_recording is not None:  # its items are still read, but they cannot show absence
            self.recorded[(account, region)] = frozenset()
            self.not_recording[(account, region)] = not_recording
            return
        self.recorded[(account, region)] = recorded - IAM_TYPES
        if recorded & IAM_TYPES:
            known = self.recorded.get((account, None), frozenset())
            self.recorded[(account, None)] = known | (recorded & IAM_TYPES)

    def fail(
        self, resource_type: str, account: str | None, region: str | None, why: str, code: str = "config-data"
    ) -> None:
        self.failed.setdefault((resource_type, account, region), (code, why))

    def failure(
        self, resource_type: str, account: str | None, region: str | None = None
    ) -> tuple[str, str] | None:
        """(code, what failed) reading the type in this scope (``region=None``: anywhere in the account)."""
        for (ftype, facct, fregion), why in self.failed.items():
            if ftype != resource_type or facct not in (None, account):
                continue
            if region is None or fregion in (None, region):
                return why
        return None

    # ---- one region (or the global scope) ----------------------------------------------------

    def knows_absence(self, resource_type: str, account: str | None, region: str | None) -> bool:
        if self.failure(resource_type, account, region or "global") is not None:
            return False
        group = self.recorded.get((account, region))
        if group is not None and resource_type in group:
            return True
        return (resource_type, account, region) in self.present

    def why_unknown(self, resource_type: str, account: str | None, region: str | None) -> str:
        failed = self.failure(resource_type, account, region or "global")
        if failed is not None:
            return f"reading {resource_type} failed ({failed[1]}), so its absence cannot be shown"
        where = f"{account or '?'}/{region or 'global'}"
        if (account, region) in self.not_recording:
            return (
                f"the configuration recorder in {where} {self.not_recording[(account, region)]}, so the "
                f"data cannot show that there is no {resource_type}; start the recorder or run "
                "`controlmap scan aws`"
            )
        if (account, region) in self.recorded:
            return (
                f"the configuration recorder in {where} does not record {resource_type}; "
                "add the type to its recording group or run `controlmap scan aws`"
            )
        return (
            f"the data holds no {resource_type} configuration items for {where}, and whether the "
            f"recorder records that type is not known; include {resource_type} items (or read with "
            "--from-aws, which checks the recording group)"
        )

    # ---- a whole account ---------------------------------------------------------------------

    def _scopes(self, resource_type: str, account: str | None) -> list[Scope]:
        """The recorder scopes that must record the type for "none in the account" to hold."""
        if resource_type in IAM_TYPES:
            return [(account, None)]
        if resource_type in HOME_REGION:
            return [(account, HOME_REGION[resource_type])]
        scopes = {(a, r) for a, r in (*self.recorded, *self.regions) if a == account and r is not None}
        return sorted(scopes, key=lambda s: s[1] or "")

    def _not_recording(self, resource_type: str, account: str | None) -> list[Scope]:
        scopes = self._scopes(resource_type, account)
        return [s for s in scopes if resource_type not in self.recorded.get(s, ())]

    def _scope_name(self, scope: Scope) -> str:
        name = f"{scope[0] or '?'}/{scope[1] or 'global'}"
        if scope in self.no_recorder:
            return f"{name} (no configuration recorder)"
        if scope in self.not_recording:
            return f"{name} (the recorder {self.not_recording[scope]})"
        return name if scope in self.recorded else f"{name} (recording group not known)"

    def knows_absence_in_account(self, resource_type: str, account: str | None) -> bool:
        if self.failure(resource_type, account) is not None:
            return False
        if (resource_type, account, None) in self.present:
            return True
        scopes = self._scopes(resource_type, account)
        if not scopes:
            return False
        missing = self._not_recording(resource_type, account)
        if resource_type in ACCOUNT_WIDE:
            return len(missing) < len(scopes)  # one region recording it is enough
        return not missing

    def why_unknown_in_account(self, resource_type: str, account: str | None) -> str:
        failed = self.failure(resource_type, account)
        if failed is not None:
            return f"reading {resource_type} failed ({failed[1]}), so its absence cannot be shown"
        if self._scopes(resource_type, account) and any(a == account for a, _r in self.recorded):
            names = [self._scope_name(scope) for scope in self._not_recording(resource_type, account)]
            more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
            return (
                f"AWS Config does not record {resource_type} in {', '.join(names[:SHOWN])}{more}, so "
                "its absence cannot be shown; add the type to the recording group there or run "
                "`controlmap scan aws`"
            )
        return (
            f"the data holds no {resource_type} configuration items for account {account or '?'}, and "
            f"whether the recorder records that type is not known; include {resource_type} items "
            "(or read with --from-aws, which checks the recording group)"
        )


def recorded_types(recorder: Mapping[str, Any], types: Sequence[str]) -> frozenset[str]:
    """The types among ``types`` that a recorder's recording group records.

    AWS's rules: "all supported" (``allSupported``, with or without the ALL_SUPPORTED strategy)
    leaves the global IAM types out unless ``includeGlobalResourceTypes`` is true (false is the
    default); the inclusion strategy records exactly ``resourceTypes``; the exclusion strategy
    records everything else, IAM types included unless they are excluded.
    """
    group = recorder.get("recordingGroup") or {}
    strategy = (group.get("recordingStrategy") or {}).get("useOnly")
    if strategy == INCLUSION or (strategy is None and not group.get("allSupported", True)):
        return frozenset(t for t in types if t in set(group.get("resourceTypes") or []))
    if strategy == EXCLUSION:
        excluded = set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or [])
        return frozenset(t for t in types if t not in excluded)
    recorded = set(types)
    if group.get("includeGlobalResourceTypes") is not True:
        recorded -= IAM_TYPES
    return frozenset(recorded)
