"""Evaluate a Terraform configuration statically: a root module, its local modules, every instance.

Evaluation is lazy: an attribute is computed when a mapper (or another expression) asks for it,
so references in any order work and a cycle is reported instead of looping. Values the scan
cannot know are ``Unresolved``; a reference to an attribute only known after apply is a
``ResourceRef`` (which still says *which* resource it is, so split resources can be joined to
their bucket through it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controlmap.resources.base import SourceKind, SourceRef
from controlmap.resources.policy import OWN_ACCOUNT
from controlmap.sources.iac.common import IacError, IacProblem, ResourceRef, Unresolved, read_text
from controlmap.sources.iac.discovery import display_path
from controlmap.sources.iac.terraform.expressions import (
    ExprError,
    JsonDocument,
    Proxy,
    Scope,
    UnknownBlock,
    evaluate,
    parse_value,
    to_text,
)
from controlmap.sources.iac.terraform.hcl import Block, TfFile, parse_file, unquote
from controlmap.sources.iac.terraform.types import type_node, with_defaults

MAX_MODULE_DEPTH = 12
MAX_INSTANCES = 1000
_META_ARGUMENTS = frozenset(
    {
        "count",
        "for_each",
        "provider",
        "providers",
        "depends_on",
        "lifecycle",
        "provisioner",
        "connection",
        "source",
        "version",
    }
)


@dataclass
class TfInstance:
    """One resource (or data source) instance, addressed as Terraform addresses it."""

    address: str
    type: str
    name: str
    mode: str  # "managed" or "data"
    module: ModuleContext
    body: dict[str, Any]
    block: Block | None
    file: str
    names: dict[str, Any]  # count / each for this instance
    skips: dict[str, str] = field(default_factory=dict)
    _attrs: dict[str, Any] | None = None
    _evaluating: bool = False

    @property
    def source(self) -> SourceRef:
        return SourceRef(
            kind=SourceKind.TERRAFORM,
            file=self.file,
            line_start=self.block.line_start if self.block else None,
            line_end=self.block.line_end if self.block else None,
            address=self.address,
        )

    @property
    def attrs(self) -> dict[str, Any]:
        if self._attrs is None:
            if self._evaluating:
                return {}
            self._evaluating = True
            try:
                scope = self.module.scope.child({**self.names, "self": Unresolved("self")})
                self._attrs = self.module.eval_body(self.body, scope, self)
            finally:
                self._evaluating = False
        return self._attrs

    def attr(self, name: str) -> Any:
        if self._evaluating:
            return Unresolved(f"{self.address}.{name} (circular reference)")
        if self.mode == "data":
            return data_attribute(self, name)
        value = self.attrs.get(name)
        if value is not None:
            return value
        return computed_attribute(self, name)


def computed_attribute(instance: TfInstance, name: str) -> Any:
    """Attributes Terraform computes, where the configuration fixes them (a bucket's name and ARN)."""
    attrs = instance.attrs
    kind = instance.type
    if kind == "aws_s3_bucket" and name in ("id", "bucket", "arn", "bucket_domain_name"):
        bucket = attrs.get("bucket")
        stand_in = bucket_stand_in(instance)
        if not isinstance(bucket, str):
            text = {
                "arn": f"arn:aws:s3:::{stand_in}",
                "bucket_domain_name": f"{stand_in}.s3.amazonaws.com",
            }.get(name, stand_in)
            return Unresolved(
                f"{instance.address}.{name} (the bucket name is chosen at apply time)",
                placeholder=text,
                exact=True,
            )
        return {"arn": f"arn:aws:s3:::{bucket}", "bucket_domain_name": f"{bucket}.s3.amazonaws.com"}.get(
            name, bucket
        )
    if kind in ("aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_iam_policy") and name in ("id", "name"):
        value = attrs.get("name")
        if isinstance(value, str):
            return value
    return ResourceRef(instance.address, name)


def bucket_stand_in(instance: TfInstance) -> str:
    """The name a bucket without a fixed name is known by in this scan (its address)."""
    return instance.address


class _Instances(Proxy):
    """``aws_s3_bucket.b`` (a resource with count/for_each, or one instance)."""

    def __init__(self, address: str, instances: list[TfInstance], mode: str, keyed: str | None):
        self.address = address
        self.instances = instances
        self.mode = mode
        self.keyed = keyed  # None (single), "count" or "for_each"

    def __str__(self) -> str:
        return self.address

    def _single(self) -> TfInstance | None:
        return self.instances[0] if self.keyed is None and self.instances else None

    def attr(self, name: str) -> Any:
        single = self._single()
        if single is not None:
            return single.attr(name)
        if self.keyed is not None and not self.instances:
            return Unresolved(f"{self.address}.{name} (no instance: count or for_each is empty)")
        return Unresolved(f"{self.address}.{name} (a resource with {self.keyed} needs an index)")

    def index(self, key: Any) -> Any:
        for instance in self.instances:
            if instance.names.get("__key__") == key or str(instance.names.get("__key__")) == str(key):
                return _InstanceProxy(instance)
        if any(isinstance(i.names.get("__key__"), Unresolved) for i in self.instances):
            return Unresolved(f"{self.address}[{key!r}] (count/for_each depends on an unknown value)")
        raise ExprError(f"{self.address}[{key!r}] does not exist")

    def value(self) -> Any:
        single = self._single()
        if single is not None:
            return ResourceRef(single.address)
        if self.keyed == "count":
            return [ResourceRef(i.address) for i in self.instances]
        return {str(i.names.get("__key__")): ResourceRef(i.address) for i in self.instances}

    def splat(self) -> list[Any] | Unresolved:
        return [_InstanceProxy(i) for i in self.instances]

    def members(self) -> Any:
        """The resource as a collection (``for_each = aws_s3_bucket.b``): its instances by key, each
        still navigable (``each.value.id`` is the bucket's name where the configuration fixes it)."""
        if self.keyed == "for_each":
            return {str(i.names.get("__key__")): _InstanceProxy(i) for i in self.instances}
        if self.keyed == "count":
            return [_InstanceProxy(i) for i in self.instances]
        return self


class _InstanceProxy(Proxy):
    def __init__(self, instance: TfInstance):
        self.instance = instance

    def __str__(self) -> str:
        return self.instance.address

    def attr(self, name: str) -> Any:
        return self.instance.attr(name)

    def value(self) -> Any:
        return ResourceRef(self.instance.address)


class _TypeProxy(Proxy):
    def __init__(self, module: ModuleContext, mode: str, rtype: str):
        self.module, self.mode, self.rtype = module, mode, rtype

    def __str__(self) -> str:
        return f"data.{self.rtype}" if self.mode == "data" else self.rtype

    def attr(self, name: str) -> Any:
        found = self.module.lookup_resource(self.mode, self.rtype, name)
        if found is None:
            raise undeclared(self.mode, self.rtype, name)
        return found


def undeclared(mode: str, rtype: str, name: str) -> ExprError:
    """Terraform refuses a reference to a resource the configuration does not declare; what the
    value is depends on that resource (declared in another configuration, or missing)."""
    address = f"{'data.' if mode == 'data' else ''}{rtype}.{name}"
    return ExprError(
        f"reference to undeclared resource {address}",
        depends_on=f"{address} (not declared in the scanned configuration)",
    )


class _UndeclaredType(Proxy):
    """A resource type no resource of the module has (``aws_kms_key.shared`` with no aws_kms_key)."""

    def __init__(self, mode: str, rtype: str):
        self.mode, self.rtype = mode, rtype

    def __str__(self) -> str:
        return self.rtype

    def attr(self, name: str) -> Any:
        raise undeclared(self.mode, self.rtype, name)


class _DataRoot(Proxy):
    def __init__(self, module: ModuleContext):
        self.module = module

    def __str__(self) -> str:
        return "data"

    def attr(self, name: str) -> Any:
        if ("data", name) not in self.module.data_types:
            return _UndeclaredType("data", name)
        return _TypeProxy(self.module, "data", name)


class _MapProxy(Proxy):
    """``var`` and ``local``: named values evaluated on first use."""

    def __init__(self, label: str, getter: Any):
        self.label, self.getter = label, getter

    def __str__(self) -> str:
        return self.label

    def attr(self, name: str) -> Any:
        return self.getter(name)


class _ModulesProxy(Proxy):
    def __init__(self, module: ModuleContext):
        self.module = module

    def __str__(self) -> str:
        return "module"

    def attr(self, name: str) -> Any:
        calls = self.module.children.get(name)
        if calls is None:
            if name in self.module.remote_modules:
                return Unresolved(f"module.{name} (a remote module, not scanned)")
            raise ExprError(f"reference to undeclared module.{name}")
        return _ModuleCallProxy(name, calls, self.module.module_keyed.get(name))


class _ModuleCallProxy(Proxy):
    def __init__(self, name: str, calls: list[ModuleContext], keyed: str | None):
        self.name, self.calls, self.keyed = name, calls, keyed

    def __str__(self) -> str:
        return f"module.{self.name}"

    def attr(self, name: str) -> Any:
        if self.keyed is None and self.calls:
            return self.calls[0].output(name)
        return Unresolved(f"module.{self.name}.{name} (a module with {self.keyed} needs an index)")

    def index(self, key: Any) -> Any:
        for call in self.calls:
            if str(call.key) == str(key):
                return _OutputsProxy(call)
        raise ExprError(f"module.{self.name}[{key!r}] does not exist")

    def members(self) -> Any:
        """The calls as a collection (``for_each = module.buckets``), each navigable to its outputs."""
        if self.keyed == "for_each":
            return {str(call.key): _OutputsProxy(call) for call in self.calls}
        if self.keyed == "count":
            return [_OutputsProxy(call) for call in self.calls]
        return self


class _OutputsProxy(Proxy):
    def __init__(self, module: ModuleContext):
        self.module = module

    def __str__(self) -> str:
        return self.module.prefix.rstrip(".")

    def attr(self, name: str) -> Any:
        return self.module.output(name)


class Configuration:
    """Shared by every module of one root: problems and all instances."""

    def __init__(self, root: Path, display_root: str):
        self.root = root
        self.display_root = display_root
        self.problems: list[IacProblem] = []
        self.files: dict[Path, TfFile] = {}
        self.region: str | None = None
        self.installed_modules = installed_modules(root)

    def problem(self, file: str, message: str, line: int | None = None, code: str = "parse") -> None:
        entry = IacProblem(file, message, line, code)
        if entry not in self.problems:
            self.problems.append(entry)


class ModuleContext:
    def __init__(
        self,
        config: Configuration,
        directory: Path,
        prefix: str,
        inputs: dict[str, Any] | None,
        depth: int,
        key: Any = None,
        root_values: dict[str, Any] | None = None,
    ):
        self.config = config
        self.directory = directory
        self.prefix = prefix  # "" or "module.m." / 'module.m["k"].'
        self.inputs = inputs  # None for the root module
        self.root_values = root_values or {}
        self.depth = depth
        self.key = key
        self.variables: dict[str, tuple[dict[str, Any], str]] = {}
        self.locals: dict[str, tuple[Any, str]] = {}
        self.outputs: dict[str, tuple[Any, str]] = {}
        self.resources: dict[tuple[str, str, str], tuple[dict[str, Any], TfFile]] = {}
        self.managed_types: set[str] = set()
        self.data_types: set[tuple[str, str]] = set()
        self.module_calls: dict[str, tuple[dict[str, Any], TfFile]] = {}
        self.children: dict[str, list[ModuleContext]] = {}
        self.module_keyed: dict[str, str | None] = {}
        self.remote_modules: set[str] = set()
        self._values: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        self._local_chain: list[str] = []  # locals being evaluated, in order (to name a cycle)
        self._instances: dict[tuple[str, str, str], _Instances] = {}
        self.scope = Scope(self._lookup)
        self._load()

    # ---- loading ---------------------------------------------------------------------------
    def _load(self) -> None:
        # Native and JSON syntax files together, in name order as Terraform reads them.
        files = sorted(
            [*self.directory.glob("*.tf"), *self.directory.glob("*.tf.json")], key=lambda p: p.name
        )
        for path in files:
            tf = self.config.files.get(path)
            if tf is None:
                try:
                    tf = parse_file(path, display_path(path))
                except IacError as exc:
                    self.config.problems.append(exc.problem(display_path(path)))
                    continue
                self.config.files[path] = tf
                for problem in tf.problems:
                    self.config.problem(problem.file, problem.message, problem.line, problem.code)
            self._collect(tf)

    def _duplicate(self, tf: TfFile, kind: str, labels: tuple[str, ...], earlier: str) -> None:
        """Terraform refuses a configuration that declares the same name twice; the first is kept."""
        block = tf.blocks.get((kind, *labels))
        shown = " ".join(f'"{label}"' for label in labels)
        self.config.problem(
            tf.display,
            f"duplicate {kind} {shown} (also declared in {earlier}); Terraform refuses the "
            "configuration, only the first is scanned",
            block.line_start if block else None,
            "reference",
        )

    def _collect(self, tf: TfFile) -> None:
        body = tf.body
        for entry in body.get("variable", []):
            for name, spec in entry.items():
                if unquote(name) in self.variables:
                    self._duplicate(tf, "variable", (unquote(name),), self.variables[unquote(name)][1])
                    continue
                self.variables[unquote(name)] = (spec if isinstance(spec, dict) else {}, tf.display)
        for entry in body.get("locals", []):
            for name, value in entry.items():
                if name == "__is_block__":
                    continue
                if unquote(name) in self.locals:
                    self.config.problem(
                        tf.display,
                        f"duplicate local value {unquote(name)} (also declared in "
                        f"{self.locals[unquote(name)][1]}); only the first is scanned",
                        None,
                        "reference",
                    )
                    continue
                self.locals[unquote(name)] = (value, tf.display)
        for entry in body.get("output", []):
            for name, spec in entry.items():
                if isinstance(spec, dict):
                    if unquote(name) in self.outputs:
                        self._duplicate(tf, "output", (unquote(name),), self.outputs[unquote(name)][1])
                        continue
                    self.outputs[unquote(name)] = (spec.get("value"), tf.display)
        for mode, section in (("managed", "resource"), ("data", "data")):
            for entry in body.get(section, []):
                for rtype, named in entry.items():
                    if not isinstance(named, dict):
                        continue
                    for name, spec in named.items():
                        if name == "__is_block__" or not isinstance(spec, dict):
                            continue
                        key = (mode, unquote(rtype), unquote(name))
                        if key in self.resources:
                            self._duplicate(tf, section, key[1:], self.resources[key][1].display)
                            continue
                        self.resources[key] = (spec, tf)
                        if mode == "managed":
                            self.managed_types.add(unquote(rtype))
                        else:
                            self.data_types.add(("data", unquote(rtype)))
        for entry in body.get("module", []):
            for name, spec in entry.items():
                if isinstance(spec, dict):
                    if unquote(name) in self.module_calls:
                        self._duplicate(
                            tf, "module", (unquote(name),), self.module_calls[unquote(name)][1].display
                        )
                        continue
                    self.module_calls[unquote(name)] = (spec, tf)
        if self.depth == 0:
            for entry in body.get("provider", []):
                aws = entry.get('"aws"') or entry.get("aws")
                if isinstance(aws, dict) and "alias" not in aws and "region" in aws:
                    region = self.value(aws["region"], tf.display, None)
                    if isinstance(region, str):
                        self.config.region = region

    def _report_remote(self, name: str, source: object, tf: Any) -> None:
        """A registry or git module ``terraform init`` has not fetched: its resources are not scanned,
        which must not read as a clean result."""
        block = tf.blocks.get(("module", name))
        shown = source if isinstance(source, str) else "(unknown source)"
        self.config.problem(
            tf.display,
            f"{self.prefix}module.{name}: source {shown} is not fetched (run terraform init), "
            "so the resources it creates are not scanned",
            block.line_start if block else None,
            "module",
        )

    def load_children(self) -> None:
        for name, (spec, tf) in self.module_calls.items():
            source = spec.get("source")
            source_text = self.value(source, tf.display, None) if source is not None else None
            call_key = ".".join([*self.call_path, name])
            if isinstance(source_text, str) and source_text.startswith(("./", "../")):
                child_dir = (self.directory / source_text).resolve()
            elif call_key in self.config.installed_modules:
                child_dir = self.config.installed_modules[call_key]  # fetched by terraform init
            else:
                self.remote_modules.add(name)
                self._report_remote(name, source_text, tf)
                continue
            block = tf.blocks.get(("module", name))
            refused = (
                ("the calling module itself", "reference")
                if child_dir == self.directory.resolve()
                else (f"nested deeper than {MAX_MODULE_DEPTH} modules", "parse")
                if self.depth + 1 > MAX_MODULE_DEPTH
                else ("not a directory", "reference")
                if not child_dir.is_dir()
                else None
            )
            if refused is not None:
                what, code = refused
                self.config.problem(
                    tf.display,
                    f"module.{name}: source {source_text} is {what}",
                    block.line_start if block else None,
                    code,
                )
                continue
            keys, keyed = self._expansion(spec, tf, block, f"{self.prefix}module.{name}")
            self.module_keyed[name] = keyed
            children = []
            for key, names in keys:
                suffix = "" if keyed is None else f"[{json.dumps(key) if isinstance(key, str) else key}]"
                inputs = {
                    k: (v, names, tf.display)
                    for k, v in spec.items()
                    if k not in _META_ARGUMENTS and k != "__is_block__"
                }
                child = ModuleContext(
                    self.config, child_dir, f"{self.prefix}module.{name}{suffix}.", {}, self.depth + 1, key
                )
                child.call_path = [*self.call_path, name]
                child.parent_inputs = (self, inputs)
                children.append(child)
            self.children[name] = children
            for child in children:
                child.load_children()

    parent_inputs: tuple[ModuleContext, dict[str, tuple[Any, dict[str, Any], str]]] | None = None
    call_path: list[str] = []  # module names from the root, as .terraform/modules/modules.json keys them

    # ---- values ------------------------------------------------------------------------------
    def value(self, raw: Any, file: str, line: int | None, scope: Scope | None = None) -> Any:
        """Evaluate a raw hcl2 value (string expression, list, object) in this module."""
        scope = scope or self.scope
        if isinstance(raw, str):
            try:
                return evaluate(parse_value(raw), scope)
            except ExprError as exc:
                self.config.problem(file, f"cannot evaluate {raw[:60]!r}: {exc.message}", line, "expression")
                return Unresolved(
                    exc.depends_on or f"an expression that does not evaluate ({exc.message[:80]})"
                )
            except RecursionError:
                self.config.problem(file, f"expression {raw[:60]!r} is nested too deeply", line, "expression")
                return Unresolved("an expression nested too deeply")
        if isinstance(raw, list):
            return [self.value(item, file, line, scope) for item in raw]
        if isinstance(raw, dict):
            return {
                unquote(k): self.value(v, file, line, scope) for k, v in raw.items() if k != "__is_block__"
            }
        return raw

    def eval_body(self, body: dict[str, Any], scope: Scope, instance: TfInstance | None) -> dict[str, Any]:
        file = instance.file if instance else ""
        line = instance.block.line_start if instance and instance.block else None
        out: dict[str, Any] = {}
        for key, raw in body.items():
            if key in _META_ARGUMENTS or key == "__is_block__":
                continue
            name = unquote(key)
            if name == "dynamic":
                for entry in raw if isinstance(raw, list) else [raw]:
                    for label, spec in entry.items():
                        if label != "__is_block__" and isinstance(spec, dict):
                            out.setdefault(unquote(label), []).extend(
                                self._dynamic(unquote(label), spec, scope, file, line)
                            )
                continue
            if (
                isinstance(raw, list)
                and raw
                and all(isinstance(x, dict) and x.get("__is_block__") for x in raw)
            ):
                out.setdefault(name, []).extend(self.eval_body(x, scope, instance) for x in raw)
                continue
            out[name] = self.value(raw, file, line, scope)
        return out

    def _dynamic(
        self, label: str, spec: dict[str, Any], scope: Scope, file: str, line: int | None
    ) -> list[dict[str, Any]]:
        collection = self.value(spec.get("for_each"), file, line, scope)
        iterator = self.value(spec.get("iterator"), file, line, scope) if "iterator" in spec else label
        iterator = iterator if isinstance(iterator, str) else label
        contents = spec.get("content") or []
        content = contents[0] if isinstance(contents, list) and contents else contents
        content = content if isinstance(content, dict) else {}
        if isinstance(collection, Unresolved):
            return [UnknownBlock(collection)]
        items = collection.items() if isinstance(collection, dict) else enumerate(collection or [])
        return [
            self.eval_body(content, scope.child({iterator: {"key": k, "value": v}}), None) for k, v in items
        ]

    def _lookup(self, name: str) -> Any:
        if name == "var":
            return _MapProxy("var", self.variable)
        if name == "local":
            return _MapProxy("local", self.local)
        if name == "module":
            return _ModulesProxy(self)
        if name == "data":
            return _DataRoot(self)
        if name == "path":
            return {"module": str(self.directory), "root": str(self.config.root), "cwd": str(Path.cwd())}
        if name == "terraform":
            return {"workspace": "default"}
        if name in ("count", "each"):
            return Unresolved(f"{name} outside a resource with {name}")
        if name in self.managed_types:
            return _TypeProxy(self, "managed", name)
        if "_" in name:  # a resource type (aws_kms_key) no resource of the module has
            return _UndeclaredType("managed", name)
        raise ExprError(f"unknown name {name!r}")

    def variable(self, name: str) -> Any:
        key = f"var.{name}"
        if key in self._values:
            return self._values[key]
        if key in self._evaluating:
            return Unresolved(f"var.{name} (circular reference)")
        self._evaluating.add(key)
        try:
            value = self._variable(name)
        finally:
            self._evaluating.discard(key)
        self._values[key] = value
        return value

    def _variable(self, name: str) -> Any:
        spec, _ = self.variables.get(name, ({}, ""))
        if name not in self.variables:
            raise ExprError(f"reference to undeclared variable var.{name}")
        value = self._given_variable(name)
        if isinstance(value, (dict, list)) and "type" in spec:
            value = with_defaults(value, type_node(spec["type"]))  # optional(type, default)
        return value

    def _given_variable(self, name: str) -> Any:
        spec, file = self.variables[name]
        if self.parent_inputs is not None:
            parent, inputs = self.parent_inputs
            if name in inputs:
                raw, names, in_file = inputs[name]
                return parent.value(raw, in_file, None, parent.scope.child(names))
        elif name in self.root_values:
            return self.root_values[name]
        if "default" in spec:
            return self.value(spec["default"], file, None, Scope(lambda n: Unresolved(n)))
        where = "module input" if self.parent_inputs is not None else "value"
        return Unresolved(f"var.{name} (no default and no {where} given)")

    def local(self, name: str) -> Any:
        key = f"local.{name}"
        if key in self._values:
            return self._values[key]
        if name not in self.locals:
            raise ExprError(f"reference to undeclared local.{name}")
        if key in self._evaluating:
            raw, file = self.locals[name]
            chain = self._local_chain[self._local_chain.index(key) :]
            cycle = " -> ".join([*chain, key])
            what = f"local.{name} refers to itself" if len(chain) == 1 else cycle
            self.config.problem(file, f"{what} (circular reference)", None, "reference")
            return Unresolved(f"local.{name} (circular reference)")
        self._evaluating.add(key)
        self._local_chain.append(key)
        try:
            raw, file = self.locals[name]
            value = self.value(raw, file, None)
        finally:
            self._evaluating.discard(key)
            self._local_chain.pop()
        self._values[key] = value
        return value

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise ExprError(f"{self.prefix.rstrip('.')} has no output {name!r}")
        key = f"output.{name}"
        if key in self._values:
            return self._values[key]
        if key in self._evaluating:
            return Unresolved(f"{self.prefix}{name} (circular reference)")
        self._evaluating.add(key)
        try:
            raw, file = self.outputs[name]
            value = self.value(raw, file, None)
        finally:
            self._evaluating.discard(key)
        self._values[key] = value
        return value

    # ---- resources ---------------------------------------------------------------------------
    def _expansion(
        self, spec: dict[str, Any], tf: TfFile, block: Block | None, address: str
    ) -> tuple[list[tuple[Any, dict[str, Any]]], str | None]:
        line = block.line_start if block else None
        if "count" in spec:
            count = self.value(spec["count"], tf.display, line)
            if isinstance(count, bool):
                count = int(count)
            if isinstance(count, (int, float)) and not isinstance(count, bool):
                number = int(count)
                if number > MAX_INSTANCES:
                    self.config.problem(
                        tf.display,
                        f"{address}: count {number} is over {MAX_INSTANCES}; "
                        f"only the first {MAX_INSTANCES} are scanned",
                        line,
                    )
                    number = MAX_INSTANCES
                return [(i, {"count": {"index": i}, "__key__": i}) for i in range(max(number, 0))], "count"
            if isinstance(count, Unresolved):
                reason = count.depends_on
            else:
                reason = "a value that is not a number"
                self.config.problem(
                    tf.display, f"{address}: count must be a whole number, got {_shown(count)}", line
                )
            unknown = Unresolved(f"count.index (count depends on {reason})")
            return [(0, {"count": {"index": unknown}, "__key__": 0})], "count"
        if "for_each" in spec:
            collection = self.value(spec["for_each"], tf.display, line)
            if isinstance(collection, _Instances | _ModuleCallProxy):
                collection = collection.members()
            if isinstance(collection, dict):
                items = list(collection.items())
            elif isinstance(collection, list):
                items = [(str(to_text(v)), v) for v in collection]
            else:
                if isinstance(collection, Unresolved):
                    reason = collection.depends_on
                else:
                    reason = "a value that is not a map or set"
                    self.config.problem(
                        tf.display,
                        f"{address}: for_each must be a map or a set, got {_shown(collection)}",
                        line,
                    )
                unknown = Unresolved(f"each.key (for_each depends on {reason})")
                return [("?", {"each": {"key": unknown, "value": unknown}, "__key__": "?"})], "for_each"
            return [
                (k, {"each": {"key": k, "value": v}, "__key__": k}) for k, v in items[:MAX_INSTANCES]
            ], "for_each"
        return [(None, {})], None

    def lookup_resource(self, mode: str, rtype: str, name: str) -> _Instances | None:
        key = (mode, rtype, name)
        if key in self._instances:
            return self._instances[key]
        if key not in self.resources:
            return None
        spec, tf = self.resources[key]
        block_key = ("resource" if mode == "managed" else "data", rtype, name)
        block = tf.blocks.get(block_key)
        base = f"{self.prefix}{'data.' if mode == 'data' else ''}{rtype}.{name}"
        # placeholder while expanding, so count/for_each referring to itself fails cleanly
        self._instances[key] = _Instances(base, [], mode, "count")
        keys, keyed = self._expansion(spec, tf, block, base)
        instances = []
        for index_key, names in keys:
            suffix = (
                ""
                if keyed is None
                else f"[{json.dumps(index_key) if isinstance(index_key, str) else index_key}]"
            )
            instances.append(
                TfInstance(
                    address=base + suffix,
                    type=rtype,
                    name=name,
                    mode=mode,
                    module=self,
                    body=spec,
                    block=block,
                    file=tf.display,
                    names=names,
                    skips=dict(block.skips) if block else {},
                )
            )
        proxy = _Instances(base, instances, mode, keyed)
        self._instances[key] = proxy
        return proxy

    def all_instances(self) -> Iterator[TfInstance]:
        for mode, rtype, name in list(self.resources):
            proxy = self.lookup_resource(mode, rtype, name)
            if proxy is not None:
                yield from proxy.instances
        for children in self.children.values():
            for child in children:
                yield from child.all_instances()


def _shown(value: Any) -> str:
    if isinstance(value, (ResourceRef, Proxy)):
        return f"a reference to {value}"
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def installed_modules(root: Path) -> dict[str, Path]:
    """Registry and git modules ``terraform init`` fetched: ``.terraform/modules/modules.json``."""
    manifest = root / ".terraform" / "modules" / "modules.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, Path] = {}
    for entry in data.get("Modules", []) if isinstance(data, dict) else []:
        if isinstance(entry, dict) and entry.get("Key") and isinstance(entry.get("Dir"), str):
            directory = (root / entry["Dir"]).resolve()
            if directory.is_dir() and root.resolve() in directory.parents:
                out[str(entry["Key"])] = directory
    return out


def load_root(directory: Path, display: str, values: dict[str, Any]) -> tuple[Configuration, ModuleContext]:
    config = Configuration(directory, display)
    root = ModuleContext(config, directory, "", None, 0, root_values=values)
    root.load_children()
    return config, root


def policy_document_json(instance: TfInstance) -> Any:
    """``data.aws_iam_policy_document``: its statements as a policy document (a dict)."""
    attrs = instance.attrs
    statements: list[Any] = []
    for source_key in ("source_policy_documents", "source_json"):
        for source in attrs.get(source_key) or []:
            parsed = _as_document(source)
            if isinstance(parsed, dict):
                statements.extend(_as_statements(parsed.get("Statement")))
    raw_statements = attrs.get("statement") or []
    if isinstance(raw_statements, Unresolved):
        raw_statements = [{"__unresolved__": raw_statements}]
    for raw in _blocks_of(raw_statements):
        if isinstance(raw, Unresolved):
            statements.append(raw)
            continue
        if not isinstance(raw, dict):
            continue
        if isinstance(raw.get("__unresolved__"), Unresolved):  # a dynamic block over an unknown collection
            statements.append(raw["__unresolved__"])
            continue
        statement: dict[str, Any] = {"Effect": raw.get("effect") or "Allow"}
        if raw.get("sid"):
            statement["Sid"] = raw["sid"]
        for key, target in (
            ("actions", "Action"),
            ("not_actions", "NotAction"),
            ("resources", "Resource"),
            ("not_resources", "NotResource"),
        ):
            if raw.get(key) is not None:
                statement[target] = raw[key]
        for key, target in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            blocks = _blocks_of(raw.get(key))
            hidden = _hidden_block(blocks)
            if hidden is not None:
                statement[target] = hidden
                continue
            if blocks:
                principal: dict[str, Any] = {}
                for entry in blocks:
                    if not isinstance(entry, dict):
                        continue
                    kind = entry.get("type")
                    ids = entry.get("identifiers")
                    kind_text = kind if isinstance(kind, str) else "AWS"
                    if kind_text == "*":
                        principal = "*"  # type: ignore[assignment]
                        break
                    principal.setdefault(kind_text, [])
                    principal[kind_text].extend(ids if isinstance(ids, list) else [ids])
                statement[target] = principal
        conditions: dict[str, dict[str, Any]] = {}
        hidden = _hidden_block(_blocks_of(raw.get("condition")))
        if hidden is not None:
            statement["Condition"] = {"StringEquals": {"(unknown)": hidden}}
        for entry in [] if hidden is not None else _blocks_of(raw.get("condition")):
            if not isinstance(entry, dict):
                continue
            test, variable = entry.get("test"), entry.get("variable")
            if isinstance(test, str) and isinstance(variable, str):
                conditions.setdefault(test, {})[variable] = entry.get("values")
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    for override in attrs.get("override_policy_documents") or []:
        parsed = _as_document(override)
        if isinstance(parsed, dict):
            statements.extend(_as_statements(parsed.get("Statement")))
    return JsonDocument({"Version": attrs.get("version") or "2012-10-17", "Statement": statements})


def _blocks_of(value: Any) -> list[Any]:
    """Nested blocks as a list: one block written as an object (JSON syntax) is a list of one."""
    if isinstance(value, dict):
        return [value]
    return list(value) if isinstance(value, list) else [] if value is None else [value]


def _hidden_block(blocks: Any) -> Unresolved | None:
    """The Unresolved of nested blocks the scan cannot know (a ``dynamic`` block over an unknown
    collection), which make the element they build unknown."""
    if isinstance(blocks, Unresolved):
        return blocks
    for entry in blocks if isinstance(blocks, list) else []:
        if isinstance(entry, Unresolved):
            return entry
        if isinstance(entry, dict) and isinstance(entry.get("__unresolved__"), Unresolved):
            hidden: Unresolved = entry["__unresolved__"]
            return hidden
    return None


def _as_document(value: Any) -> Any:
    if isinstance(value, (JsonDocument, dict)):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def _as_statements(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value]
    return list(value) if isinstance(value, list) else []


def read_tfvars(path: Path) -> dict[str, Any]:
    """Values from a .tfvars (HCL) or .tfvars.json file."""
    text = read_text(path, limit=5 * 1024 * 1024)
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise IacError(f"invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise IacError("a .tfvars.json file must hold an object")
        return data
    import hcl2

    from controlmap.sources.iac.terraform.hcl import _OPTIONS, hcl_error

    try:
        body = hcl2.loads(text, serialization_options=_OPTIONS)
    except Exception as exc:
        raise hcl_error(exc) from None
    empty = Scope(lambda n: Unresolved(n))
    out: dict[str, Any] = {}
    for key, raw in body.items():
        if key.startswith("__"):
            continue
        out[unquote(key)] = _literal(raw, empty)
    return out


def _literal(raw: Any, scope: Scope) -> Any:
    if isinstance(raw, str):
        try:
            return evaluate(parse_value(raw), scope)
        except ExprError:
            return Unresolved(f"the expression {raw[:40]!r}")
    if isinstance(raw, list):
        return [_literal(x, scope) for x in raw]
    if isinstance(raw, dict):
        return {unquote(k): _literal(v, scope) for k, v in raw.items() if k != "__is_block__"}
    return raw


def data_attribute(instance: TfInstance, name: str) -> Any:
    if instance.type == "aws_iam_policy_document" and name in ("json", "minified_json"):
        return policy_document_json(instance)
    if instance.type == "aws_partition" and name == "partition":
        return "aws"
    if instance.type == "aws_partition" and name == "dns_suffix":
        return "amazonaws.com"
    configured = instance.attrs.get(name)
    if configured is not None:
        return configured
    if instance.type == "aws_caller_identity" and name == "account_id":
        # The account Terraform runs as: the shared marker lets a policy naming it read as "own account".
        return Unresolved(
            f"{instance.address}.account_id (the account Terraform runs as)",
            placeholder=OWN_ACCOUNT,
            exact=True,
        )
    return Unresolved(f"{instance.address}.{name} (read when Terraform plans)")
