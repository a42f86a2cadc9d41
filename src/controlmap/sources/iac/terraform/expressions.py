"""A small evaluator for the HCL expressions python-hcl2 hands back as text.

python-hcl2 returns literals as Python values, quoted templates as ``'"text ${expr}"'`` and every
other expression as ``'${expr}'``. This module parses that text (templates, references with
attributes, indexes and splats, function calls, operators, conditionals, ``for`` expressions,
tuple and object constructors) and evaluates it against a scope. Anything the scan cannot know
(an attribute known only after apply, a variable without a value) evaluates to an ``Unresolved``
that names it and propagates through every operation, so a fact built from it stays unknown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved, joined

Node = tuple[Any, ...]


class ExprError(IacError):
    """An expression Terraform would refuse; ``depends_on`` names what its value depends on when
    that says more than the message (a reference to a resource the configuration does not declare)."""

    def __init__(self, message: str, depends_on: str | None = None):
        super().__init__(message)
        self.depends_on = depends_on


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_BINARY = [
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<=", ">=", "<", ">"),
    ("+", "-"),
    ("*", "/", "%"),
]
_CACHE: dict[str, Node] = {}


class _Parser:
    def __init__(self, text: str):
        self.s = text
        self.i = 0

    # -- helpers --
    def ws(self) -> None:
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c in " \t\r\n":
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                self.i = n if end < 0 else end + 2
            else:
                break

    def peek(self, token: str) -> bool:
        self.ws()
        return self.s.startswith(token, self.i)

    def eat(self, token: str) -> bool:
        if self.peek(token):
            self.i += len(token)
            return True
        return False

    def expect(self, token: str) -> None:
        if not self.eat(token):
            raise ExprError(f"expected {token!r} at position {self.i} in expression {self.s[:80]!r}")

    def ident(self) -> str | None:
        self.ws()
        m = _IDENT.match(self.s, self.i)
        if not m:
            return None
        self.i = m.end()
        return m.group(0)

    # -- grammar --
    def expression(self) -> Node:
        cond = self.binary(0)
        if self.peek("?"):
            self.i += 1
            yes = self.expression()
            self.expect(":")
            no = self.expression()
            return ("cond", cond, yes, no)
        return cond

    def binary(self, level: int) -> Node:
        if level >= len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            self.ws()
            for op in _BINARY[level]:
                # "<=" and ">=" are listed before "<" and ">", so a bare "<" here is not "<=".
                if self.s.startswith(op, self.i) and not (
                    op in ("<", ">") and self.s.startswith(op + "=", self.i)
                ):
                    self.i += len(op)
                    right = self.binary(level + 1)
                    left = ("bin", op, left, right)
                    break
            else:
                return left

    def unary(self) -> Node:
        self.ws()
        if self.s.startswith("!", self.i) and not self.s.startswith("!=", self.i):
            self.i += 1
            return ("not", self.unary())
        if self.s.startswith("-", self.i):
            self.i += 1
            return ("neg", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            self.ws()
            if self.s.startswith(".*", self.i):
                self.i += 2
                return ("splat", node, self.postfix(("it",)))
            if self.s.startswith("[*]", self.i):
                self.i += 3
                return ("splat", node, self.postfix(("it",)))
            if self.s.startswith(".", self.i) and not self.s.startswith("..", self.i):
                self.i += 1
                self.ws()
                m = re.compile(r"\d+").match(self.s, self.i)
                if m:
                    self.i = m.end()
                    node = ("index", node, ("lit", int(m.group(0))))
                    continue
                name = self.ident()
                if name is None:
                    raise ExprError(f"expected an attribute name at position {self.i} in {self.s[:80]!r}")
                node = ("attr", node, name)
                continue
            if self.s.startswith("[", self.i):
                self.i += 1
                key = self.expression()
                self.expect("]")
                node = ("index", node, key)
                continue
            return node

    def primary(self) -> Node:
        self.ws()
        if self.i >= len(self.s):
            raise ExprError(f"unexpected end of expression {self.s[:80]!r}")
        c = self.s[self.i]
        if c == '"':
            return self.template()
        if c == "(":
            self.i += 1
            inner = self.expression()
            self.expect(")")
            return inner
        if c == "[":
            return self.tuple_or_for()
        if c == "{":
            return self.object_or_for()
        if self.s.startswith("<<", self.i):
            return self.heredoc()
        m = _NUMBER.match(self.s, self.i)
        if m:
            self.i = m.end()
            text = m.group(0)
            return ("lit", float(text) if any(ch in text for ch in ".eE") else int(text))
        name = self.ident()
        if name is None:
            raise ExprError(f"unexpected {self.s[self.i : self.i + 10]!r} in expression {self.s[:80]!r}")
        if name == "true":
            return ("lit", True)
        if name == "false":
            return ("lit", False)
        if name == "null":
            return ("lit", None)
        self.ws()
        if self.s.startswith("(", self.i):
            self.i += 1
            args: list[Node] = []
            expand = False
            while not self.eat(")"):
                args.append(self.expression())
                if self.eat("..."):
                    expand = True
                if not self.eat(","):
                    self.expect(")")
                    break
            return ("call", name.split("::")[-1], args, expand)
        return ("var", name)

    def tuple_or_for(self) -> Node:
        self.expect("[")
        self.ws()
        if self.s.startswith("for", self.i) and re.match(r"for\s", self.s[self.i : self.i + 4]):
            self.i += 3
            key, value = self.for_vars()
            collection = self.expression()
            self.expect(":")
            body = self.expression()
            cond = self.expression() if self.eat_keyword("if") else None
            self.expect("]")
            return ("for_tuple", key, value, collection, body, cond)
        items: list[Node] = []
        while not self.eat("]"):
            items.append(self.expression())
            if not self.eat(","):
                self.expect("]")
                break
        return ("tuple", items)

    def eat_keyword(self, word: str) -> bool:
        self.ws()
        if re.match(word + r"\b", self.s[self.i : self.i + len(word) + 1]):
            self.i += len(word)
            return True
        return False

    def for_vars(self) -> tuple[str | None, str]:
        first = self.ident()
        if first is None:
            raise ExprError("expected a variable name after for")
        second = None
        if self.eat(","):
            second = self.ident()
        if not self.eat_keyword("in"):
            raise ExprError("expected 'in' in for expression")
        return (first, second) if second else (None, first)

    def object_or_for(self) -> Node:
        self.expect("{")
        self.ws()
        if self.s.startswith("for", self.i) and re.match(r"for\s", self.s[self.i : self.i + 4]):
            self.i += 3
            key_var, value_var = self.for_vars()
            collection = self.expression()
            self.expect(":")
            kexpr = self.expression()
            self.expect("=>")
            vexpr = self.expression()
            group = self.eat("...")
            cond = self.expression() if self.eat_keyword("if") else None
            self.expect("}")
            return ("for_object", key_var, value_var, collection, kexpr, vexpr, cond, group)
        items: list[tuple[Node, Node]] = []
        while not self.eat("}"):
            self.ws()
            start = self.i
            name = self.ident()
            if name is not None and ((self.peek("=") and not self.peek("==")) or self.peek(":")):
                entry_key: Node = ("lit", name)
            else:
                self.i = start
                entry_key = self.expression()
            if not self.eat("="):
                self.expect(":")
            items.append((entry_key, self.expression()))
            self.eat(",")
        return ("object", items)

    def heredoc(self) -> Node:
        m = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n").match(self.s, self.i)
        if not m:
            raise ExprError("malformed heredoc")
        end = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M).search(self.s, m.end())
        if not end:
            raise ExprError("unterminated heredoc")
        body = self.s[m.end() : end.start()]
        self.i = end.end()
        if m.group(1):
            lines = body.split("\n")
            indent = min((len(x) - len(x.lstrip()) for x in lines if x.strip()), default=0)
            body = "\n".join(x[indent:] for x in lines)
        return _parse_template_body(body, escapes=False)

    def template(self) -> Node:
        """A quoted template starting at the current quote; returns ("tmpl", parts)."""
        assert self.s[self.i] == '"'
        self.i += 1
        start = self.i
        depth = 0
        s = self.s
        while self.i < len(s):
            c = s[self.i]
            if c == "\\":
                self.i += 2
                continue
            if depth == 0 and c == '"':
                body = s[start : self.i]
                self.i += 1
                return _parse_template_body(body, escapes=True)
            if s.startswith("${", self.i) or s.startswith("%{", self.i):
                # skip the interpolation, honouring nested strings and braces
                self.i = _skip_interpolation(s, self.i + 2)
                continue
            self.i += 1
        raise ExprError(f"unterminated string in expression {self.s[:80]!r}")


def _skip_interpolation(s: str, i: int) -> int:
    depth = 1
    while i < len(s):
        c = s[i]
        if c == '"':
            i += 1
            while i < len(s) and s[i] != '"':
                if s[i] == "\\":
                    i += 1
                elif s.startswith("${", i):
                    i = _skip_interpolation(s, i + 2) - 1
                i += 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ExprError("unterminated interpolation")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and i + 5 < len(text) + 1:
                try:
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                except ValueError:
                    pass
        out.append(c)
        i += 1
    return "".join(out)


def _parse_template_body(body: str, *, escapes: bool) -> Node:
    parts: list[Any] = []
    i = 0
    literal: list[str] = []
    while i < len(body):
        if body.startswith("$${", i) or body.startswith("%%{", i):
            literal.append(body[i + 1 : i + 3])
            i += 3
            continue
        if body.startswith("${", i) or body.startswith("%{", i):
            end = _skip_interpolation(body, i + 2)
            inner = body[i + 2 : end - 1].strip().strip("~").strip()
            if literal:
                text = "".join(literal)
                parts.append(_unescape(text) if escapes else text)
                literal = []
            if body[i] == "%":
                parts.append(("directive", inner))
            else:
                parts.append(parse_expression(inner))
            i = end
            continue
        literal.append(body[i])
        i += 1
    if literal:
        text = "".join(literal)
        parts.append(_unescape(text) if escapes else text)
    if any(isinstance(p, tuple) and p[0] == "directive" for p in parts):
        return ("directive_tmpl", parts)
    if len(parts) == 1 and isinstance(parts[0], str):
        return ("lit", parts[0])
    if not parts:
        return ("lit", "")
    if len(parts) == 1 and isinstance(parts[0], tuple):
        return ("tmpl1", parts[0])  # "${x}" keeps x's type (HCL converts it only when needed)
    return ("tmpl", parts)


def parse_expression(text: str) -> Node:
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    parser = _Parser(text)
    node = parser.expression()
    parser.ws()
    if parser.i != len(text):
        raise ExprError(f"unexpected {text[parser.i : parser.i + 20]!r} in expression {text[:80]!r}")
    if len(_CACHE) < 50_000:
        _CACHE[text] = node
    return node


def parse_value(raw: str) -> Node:
    """A string value as python-hcl2 gives it: a quoted template, ``${expr}``, or a bare expression."""
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return parse_template(raw)
    if raw.startswith("${") and raw.endswith("}") and _skip_interpolation(raw, 2) == len(raw):
        return parse_expression(raw[2:-1])
    return parse_expression(raw)


def parse_template(raw: str) -> Node:
    """A quoted template (``'"a ${b}"'``), parsed once per distinct text."""
    cached = _CACHE.get(raw)
    if cached is not None:
        return cached
    parser = _Parser(raw)
    node = parser.template()
    if parser.i != len(raw):
        node = ("lit", _unescape(raw[1:-1]))
    _CACHE[raw] = node
    return node


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


class Scope:
    """Resolves the root names of an expression (var, local, each, a resource type…)."""

    def __init__(
        self, lookup: Callable[[str], Any], parent: Scope | None = None, names: dict[str, Any] | None = None
    ):
        self.lookup = lookup
        self.parent = parent
        self.names = names or {}

    def get(self, name: str) -> Any:
        if name in self.names:
            return self.names[name]
        if self.parent is not None:
            return self.parent.get(name)
        return self.lookup(name)

    def child(self, names: dict[str, Any]) -> Scope:
        return Scope(self.lookup, self, names)


class Proxy:
    """Something an expression navigates with ``.attr`` and ``[key]`` (a resource, a module)."""

    def attr(self, name: str) -> Any:
        raise NotImplementedError

    def index(self, key: Any) -> Any:
        return Unresolved(f"index {key!r} of {self}")

    def value(self) -> Any:
        """The proxy used as a plain value (``aws_s3_bucket.b`` passed whole)."""
        return Unresolved(f"{self}")

    def splat(self) -> list[Any] | Unresolved:
        return Unresolved(f"{self}[*]")


def unknown_in(*values: Any) -> Unresolved | None:
    for v in values:
        if isinstance(v, Unresolved):
            return v
    return None


def to_text(value: Any) -> str | Unresolved:
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, ResourceRef):
        return Unresolved(f"{value} (known after apply)", placeholder="${" + str(value) + "}", exact=True)
    if isinstance(value, Proxy):
        return to_text(value.value())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, str)):
        return str(value)
    if value is None:
        return ""
    return Unresolved("a collection used as text")


def evaluate(node: Node, scope: Scope, depth: int = 0) -> Any:
    if depth > 150:
        raise ExprError("expression nesting too deep (circular reference?)")
    kind = node[0]
    d = depth + 1
    if kind == "lit":
        return node[1]
    if kind == "var":
        return scope.get(node[1])
    if kind == "tmpl1":
        return _plain(evaluate(node[1], scope, d))
    if kind == "tmpl":
        out: list[str] = []
        stand_in: list[str] = []
        missing: list[str] = []
        pieces: list[object] = []
        for part in node[1]:
            if isinstance(part, str):
                out.append(part)
                stand_in.append(part)
                pieces.append(part)
                continue
            text = to_text(_plain(evaluate(part, scope, d)))
            pieces.append(text)
            if isinstance(text, Unresolved):
                missing.append(text.depends_on)
                stand_in.append(
                    text.placeholder if text.placeholder is not None else "${" + text.depends_on + "}"
                )
            else:
                out.append(text)
                stand_in.append(text)
        if missing:
            return joined(pieces, missing, stand_in)
        return "".join(out)
    if kind == "directive_tmpl":
        return Unresolved("a template directive (%{...})")
    if kind == "attr":
        base = evaluate(node[1], scope, d)
        return get_attr(base, node[2])
    if kind == "index":
        base = evaluate(node[1], scope, d)
        key = _plain(evaluate(node[2], scope, d))
        return get_index(base, key)
    if kind == "splat":
        base = evaluate(node[1], scope, d)
        if isinstance(base, Proxy):
            base = base.splat()
        if isinstance(base, Unresolved):
            return base
        items = base if isinstance(base, list) else list(base.values()) if isinstance(base, dict) else [base]
        return [evaluate(node[2], scope.child({"__it__": item}), d) for item in items]
    if kind == "it":
        return scope.get("__it__")
    if kind == "not":
        value = _plain(evaluate(node[1], scope, d))
        return value if isinstance(value, Unresolved) else not _truthy(value)
    if kind == "neg":
        value = _plain(evaluate(node[1], scope, d))
        return value if isinstance(value, Unresolved) else -_number(value)
    if kind == "bin":
        return _binary(node[1], node[2], node[3], scope, d)
    if kind == "cond":
        cond = _plain(evaluate(node[1], scope, d))
        if isinstance(cond, Unresolved):
            return Unresolved(f"a condition on {cond.depends_on}")
        return evaluate(node[2] if _truthy(cond) else node[3], scope, d)
    if kind == "tuple":
        return [_plain(evaluate(item, scope, d)) for item in node[1]]
    if kind == "object":
        obj: dict[str, Any] = {}
        for key_node, value_node in node[1]:
            key = _plain(evaluate(key_node, scope, d))
            if isinstance(key, Unresolved):
                return Unresolved(f"an object key from {key.depends_on}")
            obj[str(to_text(key))] = _plain(evaluate(value_node, scope, d))
        return obj
    if kind in ("for_tuple", "for_object"):
        return _for(node, scope, d)
    if kind == "call":
        if node[1] in ("try", "can"):
            return _try(node[1], node[2], scope, d)
        return call_function(node[1], [evaluate(a, scope, d) for a in node[2]], node[3])
    raise ExprError(f"unsupported expression node {kind}")


def _try(name: str, args: list[Node], scope: Scope, d: int) -> Any:
    """``try``/``can`` evaluate lazily: an error or an unknown falls through to the next argument."""
    last: Any = Unresolved(f"{name}() with no usable argument")
    for arg in args:
        try:
            value = _plain(evaluate(arg, scope, d))
        except ExprError:
            if name == "can":
                return False
            continue
        if name == "can":
            return True if not isinstance(value, Unresolved) else value
        if not isinstance(value, Unresolved):
            return value
        last = value
    return last


def _plain(value: Any) -> Any:
    return value.value() if isinstance(value, Proxy) else value


def get_attr(base: Any, name: str) -> Any:
    if isinstance(base, Proxy):
        return base.attr(name)
    if isinstance(base, Unresolved):
        return Unresolved(base.depends_on, placeholder=None)
    if isinstance(base, ResourceRef):
        return ResourceRef(base.address, f"{base.attribute}.{name}" if base.attribute else name)
    if isinstance(base, dict):
        if name in base:
            return base[name]
        return None
    if isinstance(base, list):  # legacy attribute access on a list of blocks: first element
        return get_attr(base[0], name) if base else None
    return Unresolved(f"attribute {name} of a {type(base).__name__}")


def get_index(base: Any, key: Any) -> Any:
    if isinstance(key, Unresolved):
        return Unresolved(f"an index from {key.depends_on}")
    if isinstance(base, Proxy):
        return base.index(key)
    if isinstance(base, Unresolved):
        return base
    if isinstance(base, ResourceRef):
        return ResourceRef(base.address, f"{base.attribute}[{key!r}]")
    if isinstance(base, list):
        try:
            return base[int(key)]
        except (ValueError, TypeError, IndexError):
            raise ExprError(f"index {key!r} is out of range") from None
    if isinstance(base, dict):
        if str(key) in base:
            return base[str(key)]
        raise ExprError(f"key {key!r} is not in the map")
    return Unresolved(f"index {key!r} of a {type(base).__name__}")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        raise ExprError("a bool used as a number")
    if isinstance(value, (int, float)):
        return value
    try:
        text = str(value)
        return float(text) if "." in text else int(text)
    except ValueError:
        raise ExprError(f"{value!r} is not a number") from None


def _binary(op: str, left_node: Node, right_node: Node, scope: Scope, d: int) -> Any:
    left = _plain(evaluate(left_node, scope, d))
    if op == "&&" and left is False:
        return False
    if op == "||" and left is True:
        return True
    right = _plain(evaluate(right_node, scope, d))
    missing = unknown_in(left, right)
    if op in ("&&", "||"):
        if missing:
            if op == "&&" and right is False:
                return False
            if op == "||" and right is True:
                return True
            return missing
        return _truthy(left) and _truthy(right) if op == "&&" else _truthy(left) or _truthy(right)
    if missing:
        return missing
    if isinstance(left, ResourceRef) or isinstance(right, ResourceRef):
        return Unresolved(f"{left if isinstance(left, ResourceRef) else right} (known after apply)")
    if op == "==":
        return _eq(left, right)
    if op == "!=":
        return not _eq(left, right)
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise ExprError("division by zero")
        return a / b
    if op == "%":
        return a % b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


def _eq(left: Any, right: Any) -> bool:
    if (isinstance(left, (int, float)) and isinstance(right, str)) or (
        isinstance(right, (int, float)) and isinstance(left, str)
    ):
        return str(to_text(left)) == str(to_text(right))
    return bool(left == right)


def _for(node: Node, scope: Scope, d: int) -> Any:
    key_var, value_var, collection_node = node[1], node[2], node[3]
    collection = _plain(evaluate(collection_node, scope, d))
    if isinstance(collection, Unresolved):
        return Unresolved(f"a for expression over {collection.depends_on}")
    if isinstance(collection, dict):
        pairs = list(collection.items())
    elif isinstance(collection, list):
        pairs = list(enumerate(collection))
    else:
        return Unresolved("a for expression over a non-collection")
    if node[0] == "for_tuple":
        body, cond = node[4], node[5]
        out_list = []
        for k, v in pairs:
            inner = scope.child({value_var: v, **({key_var: k} if key_var else {})})
            if cond is not None:
                keep = _plain(evaluate(cond, inner, d))
                if isinstance(keep, Unresolved):
                    return keep
                if not _truthy(keep):
                    continue
            out_list.append(_plain(evaluate(body, inner, d)))
        return out_list
    kexpr, vexpr, cond, group = node[4], node[5], node[6], node[7]
    out: dict[str, Any] = {}
    for k, v in pairs:
        inner = scope.child({value_var: v, **({key_var: k} if key_var else {})})
        if cond is not None:
            keep = _plain(evaluate(cond, inner, d))
            if isinstance(keep, Unresolved):
                return keep
            if not _truthy(keep):
                continue
        key = to_text(_plain(evaluate(kexpr, inner, d)))
        if isinstance(key, Unresolved):
            return key
        value = _plain(evaluate(vexpr, inner, d))
        if group:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    missing = _deep_unknown(value)
    if missing is not None:
        return missing
    return value


def _deep_unknown(value: Any, depth: int = 0) -> Unresolved | None:
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, ResourceRef):
        return Unresolved(f"{value} (known after apply)")
    if depth > 50:
        return None
    if isinstance(value, dict):
        for v in value.values():
            found = _deep_unknown(v, depth + 1)
            if found:
                return found
    if isinstance(value, list):
        for v in value:
            found = _deep_unknown(v, depth + 1)
            if found:
                return found
    return None


class UnknownBlock(dict[str, Any]):
    """A nested block the scan cannot know (a ``dynamic`` block over a collection known only at
    apply time, or a plan's block known after apply): every argument of it is that unknown, so a
    mapper reading ``block.get("status")`` gets an Unresolved and marks its fact unknown instead
    of taking the argument's default."""

    def __init__(self, missing: Unresolved):
        super().__init__({"__unresolved__": missing})
        self.missing = missing

    def get(self, key: str, default: Any = None) -> Any:
        return self.missing

    def __missing__(self, key: str) -> Any:
        return self.missing


class JsonDocument(dict[str, Any]):
    """The result of ``jsonencode`` on an object: kept structured so a policy with unknown
    leaves (an ARN known after apply) still reads as a policy."""


def _jsonencode(value: Any) -> Any:
    if _deep_unknown(value) is None:
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, dict):
        doc = JsonDocument(value)
        return doc
    return Unresolved("jsonencode of a value known only after apply")


def _jsondecode(value: Any) -> Any:
    if isinstance(value, JsonDocument):
        return dict(value)
    if not isinstance(value, str):
        return Unresolved("jsondecode of a computed value")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ExprError(f"jsondecode: invalid JSON ({exc})") from None


def _merge(*maps: Any) -> Any:
    out: dict[str, Any] = {}
    for m in maps:
        if isinstance(m, Unresolved):
            return m
        if m is None:
            continue
        if not isinstance(m, dict):
            raise ExprError("merge takes maps")
        out.update(m)
    return out


def _concat(*lists: Any) -> Any:
    out: list[Any] = []
    for item in lists:
        if isinstance(item, Unresolved):
            return item
        out.extend(item if isinstance(item, list) else [item])
    return out


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if isinstance(m, dict) and str(key) in m:
        return m[str(key)]
    if default:
        return default[0]
    raise ExprError(f"lookup: key {key!r} not found")


def _format(fmt: Any, *args: Any) -> Any:
    if not isinstance(fmt, str):
        return Unresolved("format with a computed format")
    texts = [to_text(a) for a in args]
    missing = unknown_in(*texts)
    if missing:
        return missing
    index = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal index
        if m.group(0) == "%%":
            return "%"
        value = texts[index] if index < len(texts) else ""
        index += 1
        return str(value)

    return re.sub(r"%%|%[-+# 0]*\d*(?:\.\d+)?[a-zA-Z]", repl, fmt)


def _flatten(value: Any) -> Any:
    out: list[Any] = []
    for item in value:
        if isinstance(item, list):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _coalesce(*values: Any) -> Any:
    for value in values:
        if isinstance(value, Unresolved):
            return value
        if value not in (None, ""):
            return value
    return None


def _one(value: Any) -> Any:
    if not value:
        return None
    return value[0]


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": _jsonencode,
    "jsondecode": _jsondecode,
    "merge": _merge,
    "concat": _concat,
    "lookup": _lookup,
    "format": _format,
    "join": lambda sep, items: sep.join(str(to_text(i)) for i in items),
    "split": lambda sep, text: text.split(sep),
    "lower": lambda s: s.lower(),
    "upper": lambda s: s.upper(),
    "title": lambda s: s.title(),
    "trimspace": lambda s: s.strip(),
    "trim": lambda s, chars: s.strip(chars),
    "trimprefix": lambda s, p: s[len(p) :] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
    "replace": lambda s, a, b: s.replace(a, b),
    "substr": lambda s, off, n: s[int(off) : int(off) + int(n)] if int(n) >= 0 else s[int(off) :],
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "length": lambda v: len(v),
    "element": lambda items, i: items[int(i) % len(items)],
    "index": lambda items, v: items.index(v),
    "contains": lambda items, v: v in items,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "tolist": lambda v: list(v),
    "toset": lambda v: list(dict.fromkeys(v)),
    "tomap": lambda v: dict(v),
    "tostring": lambda v: to_text(v),
    "tonumber": lambda v: _number(v),
    "tobool": lambda v: _truthy(v),
    "flatten": _flatten,
    "distinct": lambda v: list(dict.fromkeys(v)),
    "compact": lambda v: [x for x in v if x not in (None, "")],
    "coalesce": _coalesce,
    "coalescelist": lambda *lists: next((x for x in lists if x), []),
    "min": lambda *v: min(v),
    "max": lambda *v: max(v),
    "abs": lambda v: abs(v),
    "ceil": lambda v: -int(-v // 1),
    "floor": lambda v: int(v // 1),
    "sort": lambda v: sorted(v),
    "reverse": lambda v: list(reversed(v)),
    "range": lambda *a: list(range(*(int(x) for x in a))),
    "zipmap": lambda k, v: dict(zip(k, v, strict=False)),
    "one": _one,
    "slice": lambda v, a, b: v[int(a) : int(b)],
    "setunion": lambda *sets: list(dict.fromkeys(x for s in sets for x in s)),
    "setintersection": lambda first, *rest: [x for x in first if all(x in r for r in rest)],
    "setsubtract": lambda a, b: [x for x in a if x not in b],
    "chunklist": lambda v, n: [v[i : i + int(n)] for i in range(0, len(v), int(n))],
    "transpose": lambda m: {v: [k for k in m if v in m[k]] for vals in m.values() for v in vals},
    "regex": lambda pattern, s: (re.search(pattern, s) or [None])[0],
    "can": lambda v: not isinstance(v, Unresolved),
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
}
_LENIENT = {"try", "coalesce", "can", "merge", "concat", "jsonencode", "tolist", "toset", "compact", "length"}
_AFTER_APPLY = {
    "file",
    "filebase64",
    "templatefile",
    "timestamp",
    "uuid",
    "bcrypt",
    "sha256",
    "sha1",
    "md5",
    "base64sha256",
    "filesha256",
    "fileexists",
    "cidrsubnet",
    "cidrhost",
    "base64encode",
    "base64decode",
    "urlencode",
    "yamldecode",
    "yamlencode",
    "abspath",
    "dirname",
    "basename",
    "pathexpand",
    "fileset",
    "formatdate",
    "timeadd",
    "uuidv5",
    "textencodebase64",
    "cidrsubnets",
}


def call_function(name: str, args: list[Any], expand: bool) -> Any:
    args = [_plain(a) for a in args]
    if expand and args:
        last = args.pop()
        if isinstance(last, Unresolved):
            return last
        args.extend(last if isinstance(last, list) else [last])
    if name == "try":
        for arg in args:
            if not isinstance(arg, Unresolved):
                return arg
        return args[-1] if args else None
    if name in _AFTER_APPLY:
        return Unresolved(f"{name}(...) (evaluated by Terraform)")
    func = _FUNCTIONS.get(name)
    if func is None:
        return Unresolved(f"function {name}(...) (not evaluated statically)")
    if name in ("jsonencode",):
        return func(*args)
    if name not in _LENIENT or name in ("merge", "concat", "length", "tolist", "toset", "compact"):
        missing = unknown_in(*args)
        if missing:
            return missing
        if any(isinstance(a, ResourceRef) for a in args) and name not in (
            "concat",
            "tolist",
            "toset",
            "compact",
            "coalesce",
            "merge",
            "length",
        ):
            return Unresolved(f"{name}() of a value known after apply")
    try:
        return func(*args)
    except ExprError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError) as exc:
        raise ExprError(f"{name}(): {exc}") from None
