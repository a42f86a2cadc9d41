"""The EBS volumes an instance declares (root and block device mappings), as Volume models.

A live scan sees every volume, the root volume of each instance included, and judges EC2-04 on
it. A template declares those volumes inside the instance (``BlockDeviceMappings``,
``root_block_device``/``ebs_block_device``); they are modelled as volumes of their own, placed on
the instance's lines. What the template leaves to the AMI or the region stays unknown: a root
volume is encrypted when the AMI's snapshot is, or when the region encrypts new volumes by default.
"""

from __future__ import annotations

from typing import Any

from controlmap.resources.ec2 import Instance, Volume
from controlmap.sources.iac.common import Unresolved
from controlmap.sources.iac.facts import put, to_bool


def attached_volume(
    instance: Instance,
    device: str,
    encrypted: Any,
    kms_key_id: str | None,
    *,
    root: bool,
    from_snapshot: bool,
    fix: str,
) -> Volume:
    source = instance.source.model_copy(update={"address": f"{instance.source.address} ({device})"})
    model = Volume(
        id=f"{instance.id}/{device}",
        name=f"{instance.name} {device}",
        region=instance.region,
        tags=instance.tags,
        source=source,
        volume_id=f"{instance.id}/{device}",
        attached_instance_ids=[instance.name],  # shown in the reason: the logical ID or address
        kms_key_id=kms_key_id,
    )
    flag = to_bool(encrypted)
    if isinstance(flag, bool | Unresolved):
        put(model, "encrypted", flag, f"{device} encryption")
        return model
    region_default = "the region has EBS encryption by default on"
    if root:
        why = f"the root volume is encrypted only if the AMI's snapshot is, or if {region_default}"
    elif from_snapshot:
        why = f"the volume is made from a snapshot: encrypted if the snapshot is, or if {region_default}"
    else:
        why = f"encryption is not set, so the volume is encrypted only if {region_default}"
    model.unknown["encrypted"] = f"{why}; {fix}"
    return model
