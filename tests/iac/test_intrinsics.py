"""Static resolution of intrinsic functions, parameters, conditions and references."""

from __future__ import annotations

from typing import Any

import pytest

from controlmap.sources.iac.cloudformation.intrinsics import NO_VALUE, Resolver
from controlmap.sources.iac.cloudformation.parameters import (
    OTHER,
    parameter_values,
    read_parameters_file,
    variant_assignments,
)
from controlmap.sources.iac.cloudformation.template import parse_template
from controlmap.sources.iac.cloudformation.yaml_loader import load_yaml
from controlmap.sources.iac.common import IacError, ResourceRef, Unresolved

TEMPLATE = """\
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Subnets: {Type: CommaDelimitedList, Default: "a,b,c"}
  NoDefault: {Type: String}
Mappings:
  Sizes:
    dev: {Memory: 128}
    prod: {Memory: 1024}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Unknown: !Equals [!Ref NoDefault, x]
Resources:
  Named:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "acme-${Env}"
  Unnamed:
    Type: AWS::S3::Bucket
  Role:
    Type: AWS::IAM::Role
"""


def resolver(given: dict[str, str] | None = None, assignment: dict[str, str] | None = None) -> Resolver:
    template = parse_template(load_yaml(TEMPLATE))
    return Resolver(template, parameter_values(template, given or {}), assignment)


def resolve(expr: str, **kwargs: Any) -> Any:
    return resolver(**kwargs).resolve(load_yaml(f"v: {expr}\n")["v"])


def test_ref_uses_default_then_given_value() -> None:
    assert resolve("!Ref Env") == "dev"
    assert resolve("!Ref Env", given={"Env": "prod"}) == "prod"
    assert resolve("!Ref Subnets") == ["a", "b", "c"]


def test_parameter_without_value_is_unresolved_and_named() -> None:
    value = resolve("!Ref NoDefault")
    assert isinstance(value, Unresolved)
    assert "parameter NoDefault" in value.depends_on


def test_sub_both_forms_join_select_split_findinmap() -> None:
    assert resolve('!Sub "x-${Env}-${!Literal}"') == "x-dev-${Literal}"
    assert resolve('!Sub ["${A}/${Env}", {A: !Ref Env}]') == "dev/dev"
    assert resolve("!Join ['-', [a, !Ref Env]]") == "a-dev"
    assert resolve("!Select [1, !Ref Subnets]") == "b"
    assert resolve("!Select [0, !Split ['/', 'x/y']]") == "x"
    assert resolve("!FindInMap [Sizes, !Ref Env, Memory]", given={"Env": "prod"}) == 1024


def test_if_follows_conditions() -> None:
    assert resolve("!If [IsProd, big, small]") == "small"
    assert resolve("!If [IsDev, big, small]") == "big"
    assert resolve("!If [IsProd, big, small]", given={"Env": "prod"}) == "big"
    assert resolve("!If [IsProd, x, !Ref AWS::NoValue]") is NO_VALUE
    unknown = resolve("!If [Unknown, a, b]")
    assert isinstance(unknown, Unresolved) and "condition Unknown" in unknown.depends_on


def test_assignment_decides_an_unresolved_condition() -> None:
    assert resolve("!If [Unknown, a, b]", assignment={"NoDefault": "x"}) == "a"


def test_pseudo_parameters() -> None:
    assert resolve("!Ref AWS::Partition") == "aws"
    region = resolve("!Ref AWS::Region")
    assert isinstance(region, Unresolved) and "AWS::Region" in region.depends_on
    assert resolve("!Ref AWS::Region", given={"AWS::Region": "eu-west-1"}) == "eu-west-1"


def test_references_to_resources() -> None:
    r = resolver()
    ref = r.resolve({"Ref": "Named"})
    assert ref == ResourceRef("Named")
    assert r.physical_value(ref) == "acme-dev"
    assert r.physical_value(ResourceRef("Named", "Arn")) == "arn:aws:s3:::acme-dev"
    generated = r.physical_value(ResourceRef("Unnamed", "Arn"))
    assert isinstance(generated, Unresolved) and generated.placeholder == "arn:aws:s3:::Unnamed"
    assert isinstance(r.physical_value(ResourceRef("Role", "Arn")), Unresolved)
    assert resolve('!Sub "${Named.Arn}/*"') == "arn:aws:s3:::acme-dev/*"


def test_unknown_reference_is_an_error() -> None:
    with pytest.raises(IacError) as caught:
        resolve("!Ref Missing")
    assert "Missing" in caught.value.message


def test_import_value_and_getazs_are_unresolved() -> None:
    assert "another stack" in resolve("!ImportValue shared").depends_on
    assert isinstance(resolve("!GetAZs ''"), Unresolved)


def test_variants_enumerate_allowed_values_and_compared_literals() -> None:
    template = parse_template(load_yaml(TEMPLATE))
    assert variant_assignments(template, parameter_values(template, {})) == [
        {"NoDefault": "x"},
        {"NoDefault": OTHER},
    ]
    template.parameters["Env"].pop("Default")
    variants = variant_assignments(template, parameter_values(template, {}))
    assert {v["Env"] for v in variants} == {"dev", "prod"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"ParameterKey": "Env", "ParameterValue": "prod"}]', {"Env": "prod"}),
        ('{"Parameters": {"Env": "prod", "Count": 2}}', {"Env": "prod", "Count": "2"}),
        ("# comment\nEnv=prod\nName = x=y\n", {"Env": "prod", "Name": "x=y"}),
        (
            "# a YAML mapping\nEnv: prod\nCount: 2\nFlag: true\n",
            {"Env": "prod", "Count": "2", "Flag": "true"},
        ),
        ("Parameters:\n  Env: prod\n", {"Env": "prod"}),
        (
            '[{"ParameterKey": "Env", "UsePreviousValue": true},'
            ' {"ParameterKey": "A", "ParameterValue": "1"}]',
            {"A": "1"},
        ),
    ],
)
def test_parameters_files(tmp_path: Any, content: str, expected: dict[str, str]) -> None:
    path = tmp_path / "params"
    path.write_text(content)
    assert read_parameters_file(path) == expected


def test_bad_parameters_file_names_the_line(tmp_path: Any) -> None:
    path = tmp_path / "params"
    path.write_text("A=1\nnot a pair\n")
    with pytest.raises(IacError) as caught:
        read_parameters_file(path)
    assert caught.value.line == 2
