"""Optional attribute defaults of a variable's type constraint (Terraform 1.3+).

``type = map(object({ versioning = optional(bool, true) }))`` gives every object that leaves
``versioning`` out (or sets it to null) the value ``true``, before anything reads the variable.
Without this, ``{ logs = {} }`` would read as "versioning not set" and a control could fail on a
setting the configuration turns on. Only the defaults are applied; the scan does not convert or
check types (Terraform refuses values of the wrong type before planning).
"""

from __future__ import annotations

from typing import Any

from controlmap.sources.iac.common import Unresolved
from controlmap.sources.iac.terraform.expressions import ExprError, Node, Scope, evaluate, parse_value

_COLLECTIONS = frozenset({"map", "list", "set"})
_NO_NAMES = Scope(lambda name: Unresolved(name))


def type_node(raw: Any) -> Node | None:
    """The parsed type constraint, or None when there is none or it does not parse."""
    if not isinstance(raw, str):
        return None
    try:
        return parse_value(raw)
    except ExprError:
        return None


def with_defaults(value: Any, node: Node | None, depth: int = 0) -> Any:
    """``value`` with the ``optional(type, default)`` defaults of ``node`` filled in."""
    if node is None or isinstance(value, Unresolved) or depth > 30 or node[0] != "call":
        return value
    name, args = node[1], node[2]
    if name == "optional" and args:
        return with_defaults(value, args[0], depth + 1)
    if name in _COLLECTIONS and len(args) == 1:
        if isinstance(value, dict):
            return {k: with_defaults(v, args[0], depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [with_defaults(v, args[0], depth + 1) for v in value]
        return value
    if name == "tuple" and len(args) == 1 and args[0][0] == "tuple" and isinstance(value, list):
        elements = args[0][1]
        return [
            with_defaults(v, elements[i], depth + 1) if i < len(elements) else v for i, v in enumerate(value)
        ]
    if name == "object" and len(args) == 1 and args[0][0] == "object" and isinstance(value, dict):
        out = dict(value)
        for key_node, attr_type in args[0][1]:
            if key_node[0] != "lit" or not isinstance(key_node[1], str):
                continue
            key = key_node[1]
            if out.get(key) is None and _is_optional_with_default(attr_type):
                out[key] = evaluate(attr_type[2][1], _NO_NAMES)
            if key in out:
                out[key] = with_defaults(out[key], attr_type, depth + 1)
        return out
    return value


def _is_optional_with_default(node: Node) -> bool:
    return node[0] == "call" and node[1] == "optional" and len(node[2]) == 2
