"""What reading one IaC unit (a template, a Terraform root, a plan) produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from controlmap.resources.base import Resource, SourceKind
from controlmap.sources.iac.common import IacProblem


@dataclass(frozen=True)
class Branch:
    """Which branch a variant is for one resource: the conditions that decide it (each with its
    truth and the parameters it reads) and the values of those parameters in this variant."""

    decided: tuple[tuple[str, bool, tuple[str, ...]], ...]
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def conditions(self) -> str:
        return " and ".join(
            f"condition {name} is {'true' if truth else 'false'}" for name, truth, _ in self.decided
        )

    def narrowed(self, keep: set[tuple[str, bool]]) -> Branch:
        decided = tuple(d for d in self.decided if (d[0], d[1]) in keep)
        read = {p for _, _, params in decided for p in params}
        return Branch(decided, tuple(p for p in self.parameters if p[0] in read))

    def __str__(self) -> str:
        shown = ", ".join(f"{name}={value}" for name, value in self.parameters)
        return f"{self.conditions} ({shown})" if shown else self.conditions


def describe_branches(branches: list[Branch]) -> str:
    """The branches where a finding holds, in one phrase. Only the conditions they all share are
    named (the others vary among them, so they are not why), and branches that then differ in a
    single parameter are merged: ``condition IsProd is false (Env='staging' or another value)``."""
    unique = list(dict.fromkeys(branches))
    common = set.intersection(*({(name, truth) for name, truth, _ in b.decided} for b in unique))
    if common:
        unique = list(dict.fromkeys(b.narrowed(common) for b in unique))
    if len(unique) == 1:
        return str(unique[0])
    by_conditions: dict[str, list[Branch]] = {}
    for branch in unique:
        by_conditions.setdefault(branch.conditions, []).append(branch)
    parts = []
    for group in by_conditions.values():
        keys = {tuple(name for name, _ in b.parameters) for b in group}
        differing = (
            [i for i in range(len(group[0].parameters)) if len({b.parameters[i] for b in group}) > 1]
            if len(keys) == 1
            else []
        )
        if len(group) > 1 and len(differing) == 1:
            index = differing[0]
            values = " or ".join(dict.fromkeys(b.parameters[index][1] for b in group))
            merged = list(group[0].parameters)
            merged[index] = (merged[index][0], values)
            parts.append(str(Branch(group[0].decided, tuple(merged))))
        else:
            parts.extend(str(b) for b in group)
    return " or ".join(parts[:3]) + (" or …" if len(parts) > 3 else "")


@dataclass
class Variant:
    """The resources of a unit under one assignment of its undecided conditions.

    ``labels`` says, per resource id, which branch this variant is for that resource; it is
    empty when the unit has a single variant.
    """

    resources: list[Resource]
    labels: dict[str, Branch] = field(default_factory=dict)


@dataclass
class UnitResult:
    path: str  # the file or directory, as shown to the user
    kind: SourceKind
    variants: list[Variant] = field(default_factory=list)
    problems: list[IacProblem] = field(default_factory=list)

    @property
    def resource_count(self) -> int:
        return len(self.variants[0].resources) if self.variants else 0
