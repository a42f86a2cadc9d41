"""Systems Manager state of EC2 instances: managed or not, and Patch Manager compliance.

Not a collector of its own: the ``ec2-compute`` collector calls ``attach_ssm_state`` with the
instances it has just read, so the facts land on the same ``Instance`` resources without a
second DescribeInstances. Two listings per region, whatever the number of instances:
DescribeInstanceInformation (every managed node) and DescribeInstancePatchStates (50 instance
IDs per request, only for managed instances that are running).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from controlmap.resources.base import CollectionError
from controlmap.resources.ec2 import Instance, PatchState
from controlmap.sources.aws.collector import CollectContext

PATCH_STATE_BATCH = 50  # DescribeInstancePatchStates accepts at most 50 instance IDs


def attach_ssm_state(ctx: CollectContext, instances: Sequence[Instance]) -> None:
    information = ctx.paginate("ssm", "describe_instance_information", "InstanceInformationList")
    if information is None:
        error = _error(ctx, "DescribeInstanceInformation")
        for instance in instances:
            _mark(instance, ("ssm_managed", "ssm_ping_status", "patch_state", "patch_state_present"), error)
        return
    managed = {str(i.get("InstanceId")): i for i in information}
    for instance in instances:
        info = managed.get(instance.instance_id)
        instance.ssm_managed = info is not None
        instance.ssm_ping_status = info.get("PingStatus") if info else None

    if not ctx.wants("patch_state"):
        return
    targets = [i for i in instances if i.ssm_managed and i.active]
    states: dict[str, dict[str, Any]] = {}
    for start in range(0, len(targets), PATCH_STATE_BATCH):
        batch = targets[start : start + PATCH_STATE_BATCH]
        items = ctx.paginate(
            "ssm",
            "describe_instance_patch_states",
            "InstancePatchStates",
            InstanceIds=[i.instance_id for i in batch],
        )
        if items is None:
            error = _error(ctx, "DescribeInstancePatchStates")
            for instance in batch:
                _mark(instance, ("patch_state", "patch_state_present"), error)
            continue
        states.update({str(s.get("InstanceId")): s for s in items})
    for instance in targets:
        if "patch_state" in instance.errors:
            continue
        state = states.get(instance.instance_id)
        instance.patch_state_present = state is not None
        if state is not None:
            instance.patch_state = patch_state(state)


def patch_state(item: dict[str, Any]) -> PatchState:
    return PatchState(
        baseline_id=item.get("BaselineId"),
        operation=item.get("Operation"),
        operation_end_time=item.get("OperationEndTime"),
        missing_count=int(item.get("MissingCount") or 0),
        failed_count=int(item.get("FailedCount") or 0),
        installed_pending_reboot_count=int(item.get("InstalledPendingRebootCount") or 0),
        critical_non_compliant_count=int(item.get("CriticalNonCompliantCount") or 0),
        security_non_compliant_count=int(item.get("SecurityNonCompliantCount") or 0),
        other_non_compliant_count=int(item.get("OtherNonCompliantCount") or 0),
    )


def _error(ctx: CollectContext, operation: str) -> CollectionError:
    for error in reversed(ctx.inventory.errors):
        if error.service == "ssm" and error.operation == operation and error.region == ctx.region:
            return error
    return CollectionError(service="ssm", operation=operation, code="Unknown", region=ctx.region)


def _mark(instance: Instance, facts: Sequence[str], error: CollectionError) -> None:
    for fact in facts:
        instance.mark_error(fact, error)
