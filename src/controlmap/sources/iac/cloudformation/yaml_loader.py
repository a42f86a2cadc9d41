"""CloudFormation YAML: every short-form tag, line numbers for every mapping and key.

Composition uses libyaml through PyYAML when it is importable (about 15 times faster) and
ruamel.yaml's pure-Python composer otherwise; both yield the same node tree, which this module
turns into plain values itself. That gives three things a stock loader does not: the line range
of each key, the short-form intrinsic tags (``!Ref X`` -> ``{"Ref": "X"}``), and CloudFormation's
scalar rules (``Version: 2012-10-17`` stays a string, not a date).
"""

from __future__ import annotations

from typing import Any

from controlmap.sources.iac.cloudformation.document import LocDict
from controlmap.sources.iac.common import MAX_NODES, IacError

try:  # libyaml through PyYAML: fast path
    import yaml as _pyyaml

    _LOADER: Any = getattr(_pyyaml, "CSafeLoader", _pyyaml.SafeLoader)
    _MARKED_ERRORS: tuple[type[Exception], ...] = (_pyyaml.MarkedYAMLError,)
    _YAML_ERRORS: tuple[type[Exception], ...] = (_pyyaml.YAMLError,)
except ImportError:  # pragma: no cover - PyYAML is normally present
    _pyyaml = None  # type: ignore[assignment]

from ruamel.yaml import YAML as _RuamelYAML
from ruamel.yaml.error import MarkedYAMLError as _RuamelMarked
from ruamel.yaml.error import YAMLError as _RuamelError

if _pyyaml is None:  # pragma: no cover
    _MARKED_ERRORS = (_RuamelMarked,)
    _YAML_ERRORS = (_RuamelError,)
else:
    _MARKED_ERRORS = (*_MARKED_ERRORS, _RuamelMarked)
    _YAML_ERRORS = (*_YAML_ERRORS, _RuamelError)

# Short-form tag -> long form. Scalar/sequence shapes are handled in _tagged.
SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!FindInMap": "Fn::FindInMap",
    "!GetAZs": "Fn::GetAZs",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!ImportValue": "Fn::ImportValue",
    "!Join": "Fn::Join",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Sub": "Fn::Sub",
    "!Transform": "Fn::Transform",
    "!And": "Fn::And",
    "!Equals": "Fn::Equals",
    "!Not": "Fn::Not",
    "!Or": "Fn::Or",
    "!ToJsonString": "Fn::ToJsonString",
    "!Length": "Fn::Length",
}

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _compose(text: str) -> Any:
    if _pyyaml is not None:
        return _pyyaml.compose(text, Loader=_LOADER)
    return _RuamelYAML(typ="safe", pure=True).compose(text)  # pragma: no cover


def load_yaml(text: str) -> Any:
    """Parse a CloudFormation YAML template; IacError with the line on any problem."""
    try:
        node = _compose(text)
    except _MARKED_ERRORS as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        message = " ".join(str(p) for p in parts if p) or "invalid YAML"
        raise IacError(f"invalid YAML: {message}", line=line) from None
    except _YAML_ERRORS as exc:
        raise IacError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise IacError("invalid YAML: nesting too deep") from None
    if node is None:
        return None
    builder = _Builder()
    try:
        return builder.value(node)
    except RecursionError:
        raise IacError("template nesting is too deep (or an alias refers to itself)") from None


class _Builder:
    def __init__(self) -> None:
        self.count = 0

    def value(self, node: Any) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise IacError(
                f"template expands to more than {MAX_NODES} values (alias expansion?)",
                line=node.start_mark.line + 1,
            )
        tag = node.tag or ""
        if tag.startswith("!"):
            return self._tagged(node, tag)
        kind = node.id
        if kind == "scalar":
            return _scalar(node)
        if kind == "sequence":
            return [self.value(item) for item in node.value]
        if kind == "mapping":
            return self._mapping(node)
        raise IacError(f"unsupported YAML node {kind}", line=node.start_mark.line + 1)  # pragma: no cover

    def _mapping(self, node: Any) -> LocDict:
        out = LocDict()
        out.start = node.start_mark.line + 1
        out.end = _end_line(node)
        for key_node, value_node in node.value:
            if key_node.id != "scalar":
                raise IacError("a mapping key must be a plain string", line=key_node.start_mark.line + 1)
            key = str(key_node.value)
            if key in out:
                raise IacError(
                    f"duplicate key {key!r} (first on line {out.key_lines[key][0]})",
                    line=key_node.start_mark.line + 1,
                )
            out[key] = self.value(value_node)
            out.key_lines[key] = (
                key_node.start_mark.line + 1,
                max(key_node.start_mark.line + 1, _end_line(value_node)),
            )
        return out

    def _tagged(self, node: Any, tag: str) -> Any:
        name = SHORT_TAGS.get(tag)
        line = node.start_mark.line + 1
        if name is None:
            raise IacError(f"unknown tag {tag} (not a CloudFormation intrinsic function)", line=line)
        if node.id == "scalar":
            raw = str(node.value)
            if name == "Fn::GetAtt":
                logical, _, attribute = raw.partition(".")
                if not attribute:
                    raise IacError(f"!GetAtt {raw!r} must look like LogicalId.Attribute", line=line)
                inner: Any = [logical, attribute]
            elif name == "Fn::GetAZs" and raw == "":
                inner = ""
            else:
                inner = raw
        elif node.id == "sequence":
            inner = [self.value(item) for item in node.value]
        else:
            inner = self._mapping(node)
        out = LocDict()
        out.start = line
        out.end = _end_line(node)
        out[name] = inner
        out.key_lines[name] = (line, out.end)
        return out


def _end_line(node: Any) -> int:
    """Last line holding the node's content.

    A block collection's end mark points at the next token (possibly the next sibling's line),
    so the end is taken from its last child instead; a block scalar's end mark sits at column 0
    of the line after it.
    """
    while node.id in ("mapping", "sequence") and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if node.id == "mapping" else last
    if node.id == "scalar" and node.style == "|":
        return int(node.start_mark.line) + 2 + str(node.value).rstrip("\n").count("\n")
    end = node.end_mark
    line = end.line + 1
    if end.column == 0 and end.line > node.start_mark.line:
        line -= 1
    return line


def _scalar(node: Any) -> Any:
    tag = node.tag
    raw = node.value
    if tag == _STR or node.style in ("'", '"', "|", ">"):
        return raw
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return raw.lower() in ("true", "yes", "on", "y")
    if tag == _INT:
        text = raw.replace("_", "")
        try:
            if text.lower().startswith(("0x", "-0x")):
                return int(text, 16)
            if text.lower().startswith(("0o", "-0o")):
                return int(text, 8)
            return int(text, 10)
        except ValueError:
            return raw
    if tag == _FLOAT:
        try:
            return float(raw.replace("_", ""))
        except ValueError:
            return raw
    return raw  # timestamps, binary and other implicit types stay text, as CloudFormation reads them
