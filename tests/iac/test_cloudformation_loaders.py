"""CloudFormation YAML and JSON: short-form tags, line numbers, CloudFormation's scalar rules, errors."""

from __future__ import annotations

import pytest

from controlmap.sources.iac.cloudformation.json_loader import load_json
from controlmap.sources.iac.cloudformation.yaml_loader import load_yaml
from controlmap.sources.iac.common import IacError

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-data"
      Tags:
        - Key: arn
          Value: !GetAtt Key.Arn
  Key:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: 2012-10-17
        Statement: []
"""


def test_yaml_short_tags_become_long_form() -> None:
    doc = load_yaml(TEMPLATE)
    props = doc["Resources"]["Bucket"]["Properties"]
    assert props["BucketName"] == {"Fn::Sub": "${AWS::StackName}-data"}
    assert props["Tags"][0]["Value"] == {"Fn::GetAtt": ["Key", "Arn"]}


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("!Ref Param", {"Ref": "Param"}),
        ("!GetAtt [Res, Attr.Nested]", {"Fn::GetAtt": ["Res", "Attr.Nested"]}),
        ("!Join ['-', [a, b]]", {"Fn::Join": ["-", ["a", "b"]]}),
        ("!Select [0, !GetAZs '']", {"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
        ("!Split [',', 'a,b']", {"Fn::Split": [",", "a,b"]}),
        ("!FindInMap [M, K, V]", {"Fn::FindInMap": ["M", "K", "V"]}),
        ("!If [C, 1, 2]", {"Fn::If": ["C", 1, 2]}),
        ("!Equals [a, b]", {"Fn::Equals": ["a", "b"]}),
        ("!Not [!Condition C]", {"Fn::Not": [{"Condition": "C"}]}),
        ("!And [!Condition A, !Condition B]", {"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!Or [!Condition A, !Condition B]", {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]}),
        ("!ImportValue shared", {"Fn::ImportValue": "shared"}),
        ("!Base64 text", {"Fn::Base64": "text"}),
        ("!Cidr [10.0.0.0/16, 2, 8]", {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}),
    ],
)
def test_every_short_form_tag(tag: str, expected: object) -> None:
    assert load_yaml(f"value: {tag}\n")["value"] == expected


def test_yaml_lines_per_resource_and_property() -> None:
    doc = load_yaml(TEMPLATE)
    resources = doc["Resources"]
    assert resources.lines_of("Bucket") == (3, 9)
    assert resources.lines_of("Key") == (10, 15)
    assert resources["Bucket"]["Properties"].line_of("Tags") == 7


def test_policy_version_date_stays_a_string() -> None:
    doc = load_yaml(TEMPLATE)
    assert doc["Resources"]["Key"]["Properties"]["KeyPolicy"]["Version"] == "2012-10-17"


def test_json_lines_per_resource() -> None:
    text = (
        '{\n  "Resources": {\n    "A": {\n      "Type": "AWS::S3::Bucket"\n    },\n'
        '    "B": {"Type": "AWS::SQS::Queue"}\n  }\n}\n'
    )
    doc = load_json(text)
    assert doc["Resources"].lines_of("A") == (3, 5)
    assert doc["Resources"].lines_of("B") == (6, 6)
    assert doc["Resources"]["A"]["Type"] == "AWS::S3::Bucket"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: !Bogus x\n", 1, "unknown tag !Bogus"),
        ("a: 1\nb: [x\n", 3, "invalid YAML"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
        ("v: !GetAtt NoDot\n", 1, "LogicalId.Attribute"),
    ],
)
def test_yaml_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(IacError) as caught:
        load_yaml(text)
    assert fragment in caught.value.message
    assert caught.value.line == line


def test_json_errors_name_the_line() -> None:
    with pytest.raises(IacError) as caught:
        load_json('{\n  "a": 1,\n  "b": ,\n}')
    assert caught.value.line == 3
    with pytest.raises(IacError) as dup:
        load_json('{"a": 1,\n "a": 2}')
    assert "duplicate key" in dup.value.message and dup.value.line == 2


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    with pytest.raises(IacError) as caught:
        load_yaml("\n".join(lines) + "\n")
    assert "more than" in caught.value.message


def test_pure_python_fallback_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from controlmap.sources.iac.cloudformation import yaml_loader

    text = (Path(__file__).parent / "fixtures/cloudformation/conditions.yaml").read_text()
    fast = yaml_loader.load_yaml(text)
    monkeypatch.setattr(yaml_loader, "_pyyaml", None)  # as when PyYAML/libyaml is not installed
    slow = yaml_loader.load_yaml(text)
    assert slow == fast
    assert slow["Resources"].lines_of("Trail") == fast["Resources"].lines_of("Trail")
    with pytest.raises(IacError) as caught:
        yaml_loader.load_yaml("a: [1\n")
    assert caught.value.line is not None
