"""Companions whose target a static scan cannot resolve (shared by the CloudFormation and
Terraform builds).

A companion (a bucket policy, a security group rule, a policy attachment) names the resource it
configures. When it names it through a value the scan cannot know (a variable without a value,
a parameter, an import), or names it literally while the resource's own name is unknown, it may
configure any such resource: what it would set is unknown there, unless something known
already decides (an open rule fails whatever else is added).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from controlmap.resources.base import Resource
from controlmap.sources.iac.common import Unresolved

R = TypeVar("R", bound=Resource)
Keep = Callable[[Any], bool]


def maybe_targets(models: list[R], value: Any, who: str, name_field: str | None) -> list[tuple[R, str]]:
    """The models a companion (``who``) whose target did not resolve might still configure, each
    with why: every one when it names its target through a value the scan cannot know, and
    those whose own name is unknown when it names one literally."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, Unresolved):
        why = (
            f"{who} may set it: it names what it configures through {value.depends_on}, "
            "which a static scan cannot resolve"
        )
        return [(m, why) for m in models]
    if isinstance(value, str) and value and name_field is not None:
        out = []
        for m in models:
            own = m.unknown.get(name_field) or m.unknown.get("name")
            if own:
                out.append((m, f"{who} may set it: it configures {value!r}, which may be this one ({own})"))
        return out
    return []


class Links:
    """What companions set, resolved or not, settled once every companion has run."""

    def __init__(self) -> None:
        self.declared: set[tuple[str, str]] = set()  # (model id, fact) set by a resolved companion
        # (model, fact, why, keep): facts a companion whose target did not resolve may set
        self.pending: list[tuple[Resource, str, str, Keep | None]] = []
        self.owners: dict[tuple[str, str], str] = {}  # (model id, fact) -> the one companion setting it

    def resolved(self, model: Resource, facts: tuple[str, ...], keep: Keep | None) -> None:
        if keep is None:  # with ``keep`` the facts add up: another companion may still add to them
            self.declared.update((model.id, fact) for fact in facts)

    def unresolved(
        self,
        models: list[R],
        value: Any,
        who: str,
        name_field: str | None,
        facts: tuple[str, ...],
        keep: Keep | None,
    ) -> None:
        for candidate, why in maybe_targets(models, value, who, name_field):
            self.pending.extend((candidate, fact, why, keep) for fact in facts)

    def settle(self) -> None:
        """Each pending fact becomes unknown, unless a resolved companion set it or ``keep`` says
        what is known already decides."""
        for model, fact, why, keep in self.pending:
            if (model.id, fact) in self.declared or fact in model.unknown:
                continue
            if keep is not None and keep(model):
                continue
            setattr(model, fact, None)
            model.unknown[fact] = why


def has_items(fact: str) -> Keep:
    """``keep`` for a list fact that passes with one entry (a flow log, a web ACL, a plan)."""
    return lambda model: bool(getattr(model, fact, None))


def never(_model: Any) -> bool:
    """``keep`` for a fact an unresolved companion may always change (an endpoint of any service)."""
    return False


class Linker:
    """What both builds offer companion mappers: the models a companion whose target did not
    resolve may configure (``maybe_targets``), and ``link``, which records what it sets."""

    links: Links

    def all(self, model: type[R]) -> list[R]:
        raise NotImplementedError

    def find(self, item: Any, value: Any, model: type[R], name_field: str | None) -> R | None:
        """The model ``value`` names, as the build resolves references and names."""
        raise NotImplementedError

    def who(self, item: Any) -> str:
        """How findings name the companion (a logical ID, a Terraform address)."""
        raise NotImplementedError

    def maybe_targets(
        self, value: Any, model: type[R], item: Any, name_field: str | None = "name"
    ) -> list[tuple[R, str]]:
        """See ``maybe_targets``."""
        return maybe_targets(self.all(model), value, self.who(item), name_field)

    def sole_owner(self, model: Resource, fact: str, item: Any, what: str) -> bool:
        """Claim ``fact`` of ``model`` for a companion of which AWS keeps one per parent (a
        bucket's policy, its versioning). A second one makes the fact unknown, naming both: each
        apply replaces the other's, so which stands depends on the order of the last apply."""
        who = self.who(item)
        first = self.links.owners.setdefault((model.id, fact), who)
        if first == who:
            return True
        setattr(model, fact, None)
        model.unknown[fact] = (
            f"{first} and {who} both set the {what}; AWS keeps one, and each apply "
            "replaces the other's, so which one stands is not known (declare it once)"
        )
        return False

    def link(
        self,
        item: Any,
        value: Any,
        model: type[R],
        facts: tuple[str, ...],
        name_field: str | None = "name",
        keep: Keep | None = None,
    ) -> R | None:
        """The model a companion configures; when it cannot be resolved, the companion's
        ``facts`` become unknown on every model it might configure that no resolved companion
        sets (settled after all companions have run), unless ``keep`` says what is known of
        the model already decides (an active access key fails whatever else is attached)."""
        found = self.find(item, value, model, name_field)
        if found is not None:
            self.links.resolved(found, facts, keep)
        else:
            self.links.unresolved(self.all(model), value, self.who(item), name_field, facts, keep)
        return found
