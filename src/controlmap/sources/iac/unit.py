"""What reading one IaC unit (a template, a Terraform root, a plan) produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from controlmap.resources.base import Resource, SourceKind
from controlmap.sources.iac.common import IacProblem


@dataclass
class Variant:
    """The resources of a unit under one assignment of its undecided conditions.

    ``labels`` says, per resource id, which branch this variant is for that resource
    ("condition IsProd is false"); it is empty when the unit has a single variant.
    """

    resources: list[Resource]
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class UnitResult:
    path: str  # the file or directory, as shown to the user
    kind: SourceKind
    variants: list[Variant] = field(default_factory=list)
    problems: list[IacProblem] = field(default_factory=list)

    @property
    def resource_count(self) -> int:
        return len(self.variants[0].resources) if self.variants else 0
