"""Static resolution of CloudFormation intrinsic functions.

What a template fixes is resolved (parameters with a value or a default, mappings, conditions,
literal names of other resources); what only exists at deploy time becomes an ``Unresolved``
naming what it depends on. ``Fn::If`` on a condition that depends on a parameter with no value
is decided by the *assignment* of the variant being evaluated (see ``variants.py``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from controlmap.resources.policy import OWN_ACCOUNT
from controlmap.sources.iac.cloudformation.template import Template
from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved, joined

OTHER = "\x00(any other value)"  # stands for "a value none of the template's comparisons name"


class OtherValue(Unresolved):
    """A parameter in the branch where it has none of the values the conditions compare it with."""


class _NoValue:
    """``AWS::NoValue``: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

STATIC_PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
DEPLOY_PSEUDO = {
    "AWS::Region": "the region the stack is deployed to",
    "AWS::AccountId": "the account the stack is deployed to",
    "AWS::StackName": "the stack name chosen at deploy time",
    "AWS::StackId": "the stack id assigned at deploy time",
    "AWS::NotificationARNs": "the stack's notification ARNs",
}

# Ref / GetAtt values a template fixes when the named property is a literal.
_NAME_PROPERTY = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::Group": "GroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
}
_SUB_RE = re.compile(r"\$\{([^}]*)\}")


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, ResourceRef):
        return None
    return None


class Resolver:
    def __init__(
        self,
        template: Template,
        values: dict[str, Any],
        assignment: dict[str, str] | None = None,
        given: dict[str, str] | None = None,
    ):
        """``values``: parameter values (given or default, already typed); ``assignment``: enumerated
        values of parameters that have none, for the variant being evaluated; ``given``: the values
        as given (an SSM-typed parameter's value is the name of the SSM parameter to read)."""
        self.template = template
        self.values = values
        self.given = given or {}
        self.assignment = assignment or {}
        self._condition_cache: dict[str, bool | Unresolved] = {}
        self._condition_stack: list[str] = []
        self._physical_stack: list[str] = []
        self.depth = 0

    # ---- parameters -------------------------------------------------------------------
    def parameter(self, name: str) -> Any:
        if name in self.assignment:
            value = self.assignment[name]
            if value == OTHER:
                # The branch where the parameter is none of the compared values: no usable value.
                return OtherValue(
                    f"parameter {name} (a value none of the conditions name)", placeholder="${" + name + "}"
                )
            return value
        if name in self.values:
            return self.values[name]
        if name in STATIC_PSEUDO:
            return STATIC_PSEUDO[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in DEPLOY_PSEUDO:
            # The account id gets the shared "own account" marker, so a policy naming the stack's
            # own account root is read as such (and the marker, not ${AWS::AccountId}, is shown).
            stand_in = OWN_ACCOUNT if name == "AWS::AccountId" else "${" + name + "}"
            # One value for the whole stack, written the same way everywhere: an exact stand-in
            # (a list, NotificationARNs, is not a text to compare).
            exact = name != "AWS::NotificationARNs"
            return Unresolved(f"{name} ({DEPLOY_PSEUDO[name]})", placeholder=stand_in, exact=exact)
        if name in self.template.parameters:
            ssm_name = ssm_parameter_name(self.template.parameters[name], self.given.get(name))
            if ssm_name is not None:
                return Unresolved(
                    f"parameter {name} (the value of SSM parameter {ssm_name}, read at deploy time)",
                    placeholder="${" + name + "}",
                )
            return Unresolved(
                f"parameter {name} (no default and no value given)", placeholder="${" + name + "}"
            )
        return None

    # ---- conditions -------------------------------------------------------------------
    def condition(self, name: str) -> bool | Unresolved:
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name not in self.template.conditions:
            raise IacError(f"condition {name!r} is not defined in Conditions")
        if name in self._condition_stack:
            cycle = " -> ".join([*self._condition_stack, name])
            raise IacError(f"circular condition: {cycle}", line=self.template.condition_lines.get(name))
        self._condition_stack.append(name)
        try:
            result = self._truth(self.template.conditions[name])
        finally:
            self._condition_stack.pop()
        self._condition_cache[name] = result
        return result

    def _truth(self, expr: Any) -> bool | Unresolved:
        if isinstance(expr, bool):
            return expr
        if isinstance(expr, str) and expr.lower() in ("true", "false"):
            return expr.lower() == "true"
        if not isinstance(expr, dict) or len(expr) != 1:
            raise IacError(f"not a condition expression: {_short(expr)}")
        ((fn, arg),) = expr.items()
        if fn == "Condition":
            return self.condition(str(arg))
        if fn == "Fn::Equals":
            if not isinstance(arg, list) or len(arg) != 2:
                raise IacError("Fn::Equals needs a list of two values")
            left, right = self.resolve(arg[0]), self.resolve(arg[1])
            if isinstance(left, OtherValue) != isinstance(right, OtherValue):
                literal = right if isinstance(left, OtherValue) else left
                if not isinstance(literal, (Unresolved, ResourceRef)):
                    return False  # "any other value" differs from every literal the template compares
            for side in (left, right):
                if isinstance(side, Unresolved):
                    return side
            return _text(left) == _text(right) if _text(left) is not None else left == right
        if fn == "Fn::Not":
            inner = self._truth(arg[0] if isinstance(arg, list) and arg else arg)
            return inner if isinstance(inner, Unresolved) else not inner
        if fn in ("Fn::And", "Fn::Or"):
            if not isinstance(arg, list):
                raise IacError(f"{fn} needs a list of conditions")
            results = [self._truth(a) for a in arg]
            decided = [r for r in results if isinstance(r, bool)]
            pending = [r for r in results if isinstance(r, Unresolved)]
            if fn == "Fn::And":
                if any(r is False for r in decided):
                    return False
                return pending[0] if pending else True
            if any(r is True for r in decided):
                return True
            return pending[0] if pending else False
        raise IacError(f"{fn} cannot be used in a condition")

    # ---- values ---------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        self.depth += 1
        if self.depth > 200:
            self.depth = 0
            raise IacError("values are nested too deeply (circular reference?)")
        try:
            if isinstance(value, str):
                return dynamic_reference(value)
            if isinstance(value, dict):
                if len(value) == 1:
                    ((key, arg),) = value.items()
                    if key == "Ref" or key.startswith("Fn::"):
                        result = self._function(key, arg)
                        return dynamic_reference(result) if isinstance(result, str) else result
                out = {}
                for k, v in value.items():
                    resolved = self.resolve(v)
                    if resolved is not NO_VALUE:
                        out[k] = resolved
                return out
            if isinstance(value, list):
                return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
            return value
        finally:
            self.depth -= 1

    def _function(self, fn: str, arg: Any) -> Any:
        if fn == "Ref":
            return self._ref(str(arg))
        if fn == "Fn::GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            if not isinstance(arg, list) or len(arg) != 2:
                raise IacError(f"Fn::GetAtt needs [LogicalId, Attribute], got {_short(arg)}")
            attribute = self.resolve(arg[1])
            return self._get_att(str(arg[0]), str(attribute))
        if fn == "Fn::Sub":
            return self._sub(arg)
        if fn == "Fn::Join":
            if not isinstance(arg, list) or len(arg) != 2:
                raise IacError("Fn::Join needs [delimiter, [values]]")
            delimiter, items = self.resolve(arg[0]), self.resolve(arg[1])
            if isinstance(items, Unresolved):
                return items
            if not isinstance(items, list):
                raise IacError("Fn::Join needs a list of values")
            return _concat([x for pair in _interleave(items, delimiter) for x in pair], self)
        if fn == "Fn::Select":
            if not isinstance(arg, list) or len(arg) != 2:
                raise IacError("Fn::Select needs [index, list]")
            index, items = self.resolve(arg[0]), self.resolve(arg[1])
            for part in (index, items):
                if isinstance(part, Unresolved):
                    return part
            try:
                return items[int(index)]
            except (ValueError, TypeError, IndexError, KeyError):
                raise IacError(f"Fn::Select index {index!r} is out of range") from None
        if fn == "Fn::Split":
            if not isinstance(arg, list) or len(arg) != 2:
                raise IacError("Fn::Split needs [delimiter, string]")
            delimiter, source = self.resolve(arg[0]), self.resolve(arg[1])
            if isinstance(source, Unresolved):
                return source
            if isinstance(source, ResourceRef):
                return Unresolved(f"{source} (known after deploy)")
            return str(source).split(str(delimiter))
        if fn == "Fn::FindInMap":
            return self._find_in_map(arg)
        if fn == "Fn::If":
            if not isinstance(arg, list) or len(arg) != 3:
                raise IacError("Fn::If needs [condition, value_if_true, value_if_false]")
            truth = self.condition(str(arg[0]))
            if isinstance(truth, Unresolved):
                return Unresolved(f"condition {arg[0]} ({truth.depends_on})")
            return self.resolve(arg[1] if truth else arg[2])
        if fn == "Fn::Base64":
            return self.resolve(arg)
        if fn == "Fn::ImportValue":
            name = self.resolve(arg)
            return Unresolved(
                f"Fn::ImportValue {name if isinstance(name, str) else '(computed)'} (another stack's export)"
            )
        if fn == "Fn::GetAZs":
            return Unresolved("Fn::GetAZs (the region's availability zones)")
        if fn == "Fn::Cidr":
            return Unresolved("Fn::Cidr (computed at deploy time)")
        if fn == "Fn::Length":
            items = self.resolve(arg)
            return len(items) if isinstance(items, list) else Unresolved("Fn::Length of a computed list")
        if fn == "Fn::ToJsonString":
            inner = self.resolve(arg)
            try:
                return json.dumps(inner, separators=(",", ":"))
            except TypeError:
                return Unresolved("Fn::ToJsonString of a value known only at deploy time")
        if fn == "Fn::Transform":
            return Unresolved("Fn::Transform (a macro runs at deploy time)")
        if fn in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._truth({fn: arg})
        return Unresolved(f"{fn} (not evaluated statically)")

    def _ref(self, name: str) -> Any:
        value = self.parameter(name)
        if value is not None:
            return value
        if name in self.template.resources:
            return ResourceRef(name, None)
        raise IacError(f"Ref to {name!r}, which is neither a parameter nor a resource", code="reference")

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.template.resources:
            raise IacError(f"Fn::GetAtt refers to {logical_id!r}, which is not a resource", code="reference")
        return ResourceRef(logical_id, attribute)

    def physical_value(self, ref: ResourceRef) -> str | Unresolved:
        """The value of a Ref/GetAtt when the template fixes it (a bucket with a literal name)."""
        resource = self.template.resources[ref.address]
        what = f"{ref.address}.{ref.attribute}" if ref.attribute else ref.address
        # Not known before deploy, but it names that one resource of the template, written the
        # same way wherever the template refers to it: an exact stand-in.
        unknown = Unresolved(
            f"{what} (assigned when {resource.type} {ref.address} is created)",
            placeholder="${" + what + "}",
            exact=True,
        )
        name_property = _NAME_PROPERTY.get(resource.type)
        if resource.type == "AWS::S3::Bucket" and name_property not in resource.properties:
            return self._bucket_stand_in(ref, unknown)
        if name_property is None or name_property not in resource.properties:
            return unknown
        if ref.address in self._physical_stack:
            cycle = " -> ".join([*self._physical_stack, ref.address])
            raise IacError(f"circular reference: {cycle}", line=resource.line_start, code="reference")
        self._physical_stack.append(ref.address)
        try:
            name = self.resolve(resource.properties[name_property])
        finally:
            self._physical_stack.pop()
        if isinstance(name, ResourceRef):
            name = self.physical_value(name)
        if not isinstance(name, str):
            if resource.type == "AWS::S3::Bucket":  # BucketName: !Sub "${AWS::StackName}-data"
                return self._bucket_stand_in(ref, name if isinstance(name, Unresolved) else unknown)
            if ref.attribute is None and isinstance(name, Unresolved):
                return name
            return unknown
        if ref.attribute is None:
            return name
        if resource.type == "AWS::S3::Bucket":
            if ref.attribute == "Arn":
                return f"arn:aws:s3:::{name}"
            if ref.attribute == "DomainName":
                return f"{name}.s3.amazonaws.com"
        return unknown

    @staticmethod
    def _bucket_stand_in(ref: ResourceRef, unknown: Unresolved) -> Unresolved:
        """The model of a bucket whose name is not a literal is named after its logical ID; policies
        that name it through Ref/GetAtt get the same stand-in so their statements still match it."""
        stand_in = {None: ref.address, "Arn": f"arn:aws:s3:::{ref.address}"}.get(ref.attribute)
        return Unresolved(unknown.depends_on, placeholder=stand_in, exact=stand_in is not None)

    def _sub(self, arg: Any) -> Any:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise IacError("Fn::Sub needs a string or [string, {variables}]")
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise IacError("Fn::Sub needs a string")
        parts: list[Any] = []
        position = 0
        for match in _SUB_RE.finditer(text):
            parts.append(text[position : match.start()])
            position = match.end()
            name = match.group(1)
            if name.startswith("!"):
                parts.append("${" + name[1:] + "}")
                continue
            if name in variables:
                parts.append(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.template.resources:
                logical, attribute = name.split(".", 1)
                parts.append(self._get_att(logical, attribute))
            else:
                value = self._ref(name)
                parts.append(value)
        parts.append(text[position:])
        return _concat(parts, self)

    def _find_in_map(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) < 3:
            raise IacError("Fn::FindInMap needs [MapName, TopLevelKey, SecondLevelKey]")
        keys = [self.resolve(a) for a in arg[:3]]
        for key in keys:
            if isinstance(key, Unresolved):
                return Unresolved(f"Fn::FindInMap key {key.depends_on}")
            if isinstance(key, ResourceRef):
                return Unresolved(f"Fn::FindInMap key {key} (known after deploy)")
        node: Any = self.template.mappings
        for key in keys:
            if not isinstance(node, dict) or str(key) not in node:
                if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                    return self.resolve(arg[3]["DefaultValue"])
                raise IacError(f"Fn::FindInMap: no entry {' / '.join(str(k) for k in keys)} in Mappings")
            node = node[str(key)]
        return self.resolve(node)


_DYNAMIC = re.compile(r"\{\{resolve:(?:ssm|ssm-secure|secretsmanager):[^}]*\}\}")
SSM_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"


def dynamic_reference(text: str) -> Any:
    """``{{resolve:ssm:/name}}`` and its kin are read when the stack deploys: the text stands for
    an unknown value (its own text is kept as the stand-in, so a policy naming it stays readable).
    The reference is named (it is in the template); the value it reads never is known here."""
    if "{{resolve:" not in text:
        return text
    match = _DYNAMIC.search(text)
    if match is None:
        return text
    return Unresolved(
        f"the dynamic reference {match.group(0)} (read when the stack deploys)", placeholder=text
    )


def ssm_parameter_name(spec: dict[str, Any], given: str | None) -> str | None:
    """The SSM parameter an ``AWS::SSM::Parameter::Value<…>`` parameter reads, else None."""
    if not str(spec.get("Type", "")).startswith(SSM_TYPE_PREFIX):
        return None
    name = given if given is not None else spec.get("Default")
    return str(name) if isinstance(name, (str, int)) else "(none given)"


def _interleave(items: list[Any], delimiter: Any) -> list[tuple[Any, ...]]:
    pairs: list[tuple[Any, ...]] = []
    for index, item in enumerate(items):
        pairs.append((item,) if index == 0 else (delimiter, item))
    return pairs


def _concat(parts: list[Any], resolver: Resolver | None = None) -> Any:
    """Join resolved parts into one string; an unknown part makes the whole an Unresolved."""
    out: list[str] = []
    stand_in: list[str] = []
    missing: list[str] = []
    pieces: list[object] = []
    for part in parts:
        if isinstance(part, ResourceRef) and resolver is not None:
            part = resolver.physical_value(part)
        if isinstance(part, ResourceRef):
            part = Unresolved(f"{part} (known after deploy)", placeholder="${" + str(part) + "}", exact=True)
        if isinstance(part, Unresolved):
            missing.append(part.depends_on)
            stand_in.append(
                part.placeholder if part.placeholder is not None else "${" + part.depends_on + "}"
            )
            pieces.append(part)
            continue
        text = _text(part)
        if text is None:
            if isinstance(part, list):
                text = ",".join(_text(p) or "" for p in part)
            else:
                missing.append("a non-text value")
                pieces.append(Unresolved("a non-text value"))
                continue
        out.append(text)
        stand_in.append(text)
        pieces.append(text)
    if missing:
        return joined(pieces, missing, stand_in)
    return "".join(out)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."
