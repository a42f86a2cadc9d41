"""A link checker over a built site: every relative link and asset resolves, every #fragment exists.

It also reports anything that would load from outside the site (CDN scripts, fonts, images):
the site must work offline and from file://.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Page:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.page.ids.add(values["name"])
        for attr in ("href", "src", "action", "poster"):
            if attr in values:
                self.page.links.append((tag, attr, values[attr]))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            _, _, target = values.get("content", "").partition("url=")
            if target:
                self.page.links.append((tag, "refresh", target.strip()))


def parse(path: Path) -> Page:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector.page


def check_site(root: Path) -> list[str]:
    """Every problem as 'page: message'; an empty list means the site is whole."""
    pages = {p: parse(p) for p in sorted(root.rglob("*.html"))}
    problems: list[str] = []
    for path, page in pages.items():
        rel = path.relative_to(root).as_posix()
        for tag, attr, value in page.links:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                problems.append(f"{rel}: <{tag} {attr}> leaves the site: {value}")
                continue
            if value.startswith("/"):
                problems.append(f"{rel}: <{tag} {attr}> is root-absolute (breaks on file://): {value}")
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if root.resolve() not in target.parents and target != root.resolve():
                problems.append(f"{rel}: <{tag} {attr}> points outside the site: {value}")
                continue
            if not target.is_file():
                problems.append(f"{rel}: <{tag} {attr}> broken: {value}")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{rel}: <{tag} {attr}> missing anchor: {value}")
    return problems
