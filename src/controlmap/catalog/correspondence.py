"""The ISO/IEC 27001:2013 -> 2022 correspondence, as data.

The seed cites 2013 numbers (A.9.4, A.10.1, A.12.4, A.14.2) under a 2022 heading. The lint uses
this table to name the 2022 successors of any 2013 ID it meets, at clause level (``A.9.4``) or
control level (``A.9.4.2``), and to spot the clause IDs that exist in both editions with
different meanings (2013 A.8.2 Information classification vs 2022 A.8.2 Privileged access rights).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from controlmap.catalog.catalog import FRAMEWORKS_DIR
from controlmap.yamlfile import load_trusted_model

CORRESPONDENCE_FILE = FRAMEWORKS_DIR / "iso27001-2013-to-2022.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Mapping2013(_Strict):
    """One 2013 control and the 2022 control(s) that replace it."""

    id: str
    title: str
    successors: list[str] = Field(min_length=1)


class Clause2013(_Strict):
    """One 2013 clause (e.g. A.9.2 User access management) with its controls."""

    id: str
    title: str
    successors: list[str] = Field(min_length=1)
    controls: list[Mapping2013] = Field(default_factory=list)

    @model_validator(mode="after")
    def _clause_covers_its_controls(self) -> Clause2013:
        # A clause-level citation must convert to everything its controls convert to, or the
        # lint would hide a successor from whoever fixes a clause-level reference.
        union = {s for control in self.controls for s in control.successors}
        if self.controls and set(self.successors) != union:
            raise ValueError(
                f"{self.id}: clause successors {sorted(self.successors)} differ from its controls' "
                f"successors {sorted(union)}"
            )
        for control in self.controls:
            if not control.id.startswith(self.id + "."):
                raise ValueError(f"control {control.id} is listed under clause {self.id}")
        return self


class Correspondence(_Strict):
    source: str = Field(alias="from")  # "iso27001:2013"
    target: str = Field(alias="to")  # "iso27001:2022"
    name: str
    clauses: list[Clause2013]

    def entries(self) -> dict[str, Clause2013 | Mapping2013]:
        """Every 2013 ID, clause and control level, in document order."""
        out: dict[str, Clause2013 | Mapping2013] = {}
        for clause in self.clauses:
            out[clause.id] = clause
            for control in clause.controls:
                out[control.id] = control
        return out

    def successors(self, ident: str) -> list[str] | None:
        """The 2022 successors of a 2013 ID, or None when the table does not know the ID."""
        entry = self.entries().get(ident.strip())
        return list(entry.successors) if entry is not None else None

    def title(self, ident: str) -> str | None:
        entry = self.entries().get(ident.strip())
        return entry.title if entry is not None else None

    def ambiguous(self, target_ids: set[str]) -> set[str]:
        """2013 IDs that are also valid IDs in the target edition, with another meaning."""
        return {ident for ident in self.entries() if ident in target_ids}

    def all_successors(self) -> set[str]:
        return {s for entry in self.entries().values() for s in entry.successors}


def load_correspondence(path: Path = CORRESPONDENCE_FILE) -> Correspondence:
    return load_trusted_model(path, Correspondence)


@lru_cache(maxsize=1)
def builtin_correspondence() -> Correspondence:
    return load_correspondence()
