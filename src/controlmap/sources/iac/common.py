"""What every IaC reader shares: reading files safely, problems with file and line, unresolved values.

A template is attacker-controlled input in CI: it may be huge, binary, badly encoded or built to
explode a parser. Every reader goes through ``read_text`` and reports a problem as ``IacProblem``
(one clear message naming the file and, where known, the line) so the scan of the other files
goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 20 * 1024 * 1024  # plans and other inputs over 20 MB are refused
# CloudFormation refuses a template over 1 MB (the limit of a template in S3), and reading one
# costs about 200 MB of memory per MB of YAML, so a bigger file is named instead of read.
MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_NODES = 2_000_000  # guards against alias/reference expansion bombs


@dataclass(frozen=True)
class IacProblem:
    """A file (or a part of it) that could not be read or understood."""

    file: str
    message: str
    line: int | None = None
    code: str = "parse"  # parse | encoding | size | binary | io | reference | module | suppression | usage

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class IacError(Exception):
    """Raised by readers; carries the problem that ends the reading of one file."""

    def __init__(self, message: str, line: int | None = None, code: str = "parse"):
        super().__init__(message)
        self.message = message
        self.line = line
        self.code = code

    def problem(self, file: str) -> IacProblem:
        return IacProblem(file, self.message, self.line, self.code)


def read_text(path: Path, *, limit: int = MAX_FILE_BYTES, why: str = "") -> str:
    """A file's text, or IacError: too large (``why`` says why the limit is what it is), binary,
    not UTF-8 (with the line of the bad byte)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IacError(f"cannot read file: {exc.strerror or exc}", code="io") from None
    if size > limit:
        raise IacError(
            f"file is {size / 1_048_576:.1f} MB; files over {limit // 1_048_576} MB are not scanned{why}",
            code="size",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IacError(f"cannot read file: {exc.strerror or exc}", code="io") from None
    wide = utf16_encoding(data)
    if wide is not None:
        raise IacError(
            f"{wide} text (it starts with a byte order mark); save the file as UTF-8", code="encoding"
        )
    if b"\x00" in data[:8192]:
        raise IacError("binary data, not a text template", code="binary")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise IacError(
            f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
            line=line,
            code="encoding",
        ) from None


def utf16_encoding(data: bytes) -> str | None:
    """``UTF-16``/``UTF-32`` when the bytes start with that byte order mark (an editor or a
    PowerShell redirect on Windows writes them); None otherwise."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    return None


@dataclass(frozen=True)
class Unresolved:
    """A value a static scan cannot know, and what it depends on.

    ``depends_on`` reads well after "depends on": ``parameter VpcId (no default, no value given)``,
    ``aws_kms_key.main.arn (known after apply)``. A fact built from it stays None (UNKNOWN
    finding), never a guess.
    """

    depends_on: str
    # A stand-in text for places that need a string and only compare it with the same stand-in
    # (a bucket policy's Resource naming a bucket whose name CloudFormation generates).
    placeholder: str | None = None
    # The placeholder names the value itself, written the same way everywhere in the unit (the
    # own account, a bucket's generated name, the stack's region, a declared resource's ARN), so
    # comparing it as text with what it stands for is right. A placeholder that is only a display
    # of what is missing (``${Param}``, ``${var.x}``) is not exact.
    exact: bool = False
    # A string with literal parts around unknown ones (``arn:aws:kms:…:key/${KeyId}``): the value
    # is set and has that shape, even though all of it is not known.
    partial: bool = False
    # The pieces of ``placeholder`` that stand for inexact unknown parts (``${var.x}``), so a
    # reader of the placeholder text (a policy in a heredoc) can tell them from literal text.
    holes: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"<unresolved: {self.depends_on}>"

    @property
    def opaque(self) -> bool:
        """Nothing of the value is known, not even that it is set: a variable without a default
        may be null or empty, a parameter may hold any text (``*`` included)."""
        return not (self.exact or self.partial)


@dataclass(frozen=True)
class ResourceRef:
    """A reference to another resource of the same unit (``!Ref Bucket``, ``aws_s3_bucket.b.id``)."""

    address: str
    attribute: str | None = None

    def __str__(self) -> str:
        return f"{self.address}.{self.attribute}" if self.attribute else self.address


def is_unresolved(value: object) -> bool:
    return isinstance(value, Unresolved)


def opaque(value: object) -> Unresolved | None:
    """The Unresolved when ``value`` is one of which nothing is known (see ``Unresolved.opaque``)."""
    return value if isinstance(value, Unresolved) and value.opaque else None


def inexact(value: object, _depth: int = 0) -> Unresolved | None:
    """The first Unresolved inside ``value`` whose placeholder cannot be compared as text with what
    it stands for (an opaque value, or a string with an unknown part that is not a stand-in)."""
    if isinstance(value, Unresolved):
        return None if value.exact else value
    if _depth > 60:
        return None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = inexact(item, _depth + 1)
        if found is not None:
            return found
    return None


def joined(parts: list[object], missing: list[str], stand_in: list[str]) -> Unresolved:
    """The Unresolved of a string built from literal text and unknown parts (a template, ``Fn::Sub``,
    ``Fn::Join``): exact when every unknown part is, partial when some text is literal."""
    unknown = [p for p in parts if isinstance(p, Unresolved)]
    literal = any(isinstance(p, str) and p for p in parts)
    holes: list[str] = []
    for part in unknown:
        if part.holes:
            holes.extend(part.holes)
        elif not part.exact:
            holes.append(part.placeholder if part.placeholder is not None else "${" + part.depends_on + "}")
    return Unresolved(
        ", ".join(dict.fromkeys(missing)),
        placeholder="".join(stand_in),
        exact=all(u.exact for u in unknown),
        partial=literal or any(not u.opaque for u in unknown),
        holes=tuple(dict.fromkeys(h for h in holes if h)),
    )


def first_unresolved(value: object, _depth: int = 0) -> Unresolved | None:
    """The first Unresolved found anywhere inside ``value`` (dicts and lists included)."""
    if isinstance(value, Unresolved):
        return value
    if _depth > 60:
        return None
    if isinstance(value, dict):
        for item in value.values():
            found = first_unresolved(item, _depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = first_unresolved(item, _depth + 1)
            if found is not None:
                return found
    return None


# The stand-ins an unknown part leaves in a placeholder: ``${...}`` and markers such as
# ``<own account>``. A bucket name (or any S3, DNS-like name) never contains ``$``, ``{`` or ``<``.
_STAND_IN = re.compile(r"\$\{[^}]*\}|<[^<>]*>")


def may_be(value: object, literal: str) -> bool:
    """Whether a name that is not (fully) known could turn out to be ``literal``: its known text
    must match (``acme-${Env}-data-${AWS::AccountId}`` can never be ``acme-logs``)."""
    if not isinstance(value, Unresolved) or value.placeholder is None:
        return True
    pieces = _STAND_IN.split(value.placeholder)
    if len(pieces) == 1:
        return True  # no stand-in to tell the known text from: anything is possible
    pattern = ".*".join(re.escape(piece) for piece in pieces)
    return re.fullmatch(pattern, literal, re.S) is not None
