"""The shipped catalog's data against what AWS and the standards really name things.

Resource type names are checked against AWS's own models on disk (botocore's AWS Config service
model, cfn-lint's CloudFormation provider schemas); correction lines against the framework titles.
"""

from __future__ import annotations

import re

from controlmap.catalog.catalog import load_catalog
from controlmap.catalog.correspondence import builtin_correspondence

CATALOG = load_catalog()


def _iso_titles() -> dict[str, set[str]]:
    """Each ISO ID with the titles it may be cited under: its 2022 title, or its 2013 one."""
    titles: dict[str, set[str]] = {}
    for requirement in CATALOG.frameworks["iso27001:2022"].requirements:
        titles.setdefault(requirement.id, set()).add(requirement.title.lower())
    corr = builtin_correspondence()
    for clause in corr.clauses:
        titles.setdefault(clause.id, set()).add(clause.title.lower())
        for control in clause.controls:
            titles.setdefault(control.id, set()).add(control.title.lower())
    return titles


def test_correction_lines_give_iso_controls_their_real_titles() -> None:
    """'A.5.15 (Access control policy)' cites A.5.15 under the 2013 A.9.1.1 title: an auditor stops there."""
    titles = _iso_titles()
    wrong = []
    for control in CATALOG.ordered():
        for line in control.corrections:
            for ident, title in re.findall(r"\b(A\.\d+\.\d+(?:\.\d+)?) \(([^)]+)\)", line):
                if not title[:1].isupper():
                    continue  # "(2013: ...)", "(from A.9.2.3)", "(the 2013 ...)": prose, not a title
                if title.lower() not in titles.get(ident, set()):
                    wrong.append(f"{control.id}: {ident} ({title})")
    assert not wrong
