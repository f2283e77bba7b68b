"""Framework profiles: the facts the chooser and the comparison table are built from.

The facts live in ``frameworks.toml`` next to this module. This module validates them
and turns them into frozen dataclasses, so a typo in the table fails loudly at load
time instead of silently changing a recommendation.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "ASYNC_SUPPORT",
    "BATTERIES",
    "BENCHMARK_CHAPTER",
    "COMMUNITY_SIZES",
    "DEPENDENCIES_NOTE",
    "FACTS",
    "FOCUSES",
    "INTERFACES",
    "KINDS",
    "LABELS",
    "LEARNING_CURVES",
    "PERFORMANCE_NOTE",
    "PROJECT_SIZES",
    "SECTIONS",
    "TABLE_PATH",
    "WEBSOCKETS",
    "FrameworkProfile",
    "frameworks_in",
    "label",
    "load_profiles",
    "notebook_path",
    "parse_table",
]

TABLE_PATH = Path(__file__).with_name("frameworks.toml")

# Allowed values of the enumerated facts, best-known first.
INTERFACES = ("WSGI", "ASGI", "own server")
KINDS = ("micro", "api", "full-stack", "flexible", "async", "minimalist")
FOCUSES = ("api", "both", "full-stack")
ASYNC_SUPPORT = ("native", "partial", "per-request", "none")
WEBSOCKETS = ("built-in", "routes-only", "none")
BATTERIES = (
    "orm",
    "migrations",
    "admin",
    "auth",
    "templating",
    "forms",
    "sessions",
    "i18n",
    "csrf",
)
LEARNING_CURVES = ("gentle", "moderate", "steep")
COMMUNITY_SIZES = ("large", "medium", "small")
PROJECT_SIZES = ("small", "medium", "large")

# Human-readable wording of enumerated values, shared by the chooser and the tables.
LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "kind": {
            "micro": "micro-framework",
            "api": "API framework",
            "full-stack": "full-stack, batteries included",
            "flexible": "start small, grow by composition",
            "async": "async framework with its own server",
            "minimalist": "minimalist, object-oriented",
        },
        "focus": {
            "api": "APIs and services",
            "both": "APIs and HTML pages alike",
            "full-stack": "complete web applications",
        },
        "async_support": {
            "native": "native (coroutine handlers on an event loop)",
            "partial": "partial (async views; parts of the core stay synchronous)",
            "per-request": "per request (async def views run in a worker thread)",
            "none": "none (synchronous handlers)",
        },
        "websockets": {
            "built-in": "built in, server included",
            "routes-only": "routes built in, protocol from the ASGI server",
            "none": "not in the core",
        },
        "batteries": {
            "orm": "ORM",
            "migrations": "migrations",
            "admin": "admin site",
            "auth": "authentication",
            "templating": "templates",
            "forms": "forms",
            "sessions": "sessions",
            "i18n": "translations",
            "csrf": "CSRF protection",
        },
    }
)

# Every fact a profile carries, in the order tables show them.
FACTS = (
    "section",
    "interfaces",
    "kind",
    "focus",
    "async_support",
    "websockets",
    "http_versions",
    "bundled_server",
    "batteries",
    "dependencies",
    "single_file",
    "api_docs",
    "learning_curve",
    "community",
    "project_sizes",
    "production_server",
    "project_template",
)


def label(fact: str, value: str) -> str:
    """Readable wording of an enumerated fact value (the value itself if none)."""
    return LABELS.get(fact, {}).get(value, value)


def notebook_path(chapter: str) -> str:
    """Repository path of a chapter notebook, e.g. ``notebooks/flask.ipynb``."""
    return f"notebooks/{chapter}.ipynb"


@dataclass(frozen=True)
class FrameworkProfile:
    """The facts about one framework, as pinned by the course."""

    key: str
    name: str
    section: str
    chapter: str
    distribution: str
    version: str
    interfaces: tuple[str, ...]
    kind: str
    focus: str
    async_support: str
    websockets: str
    http_versions: tuple[str, ...]
    bundled_server: bool
    batteries: tuple[str, ...]
    dependencies: int
    single_file: bool
    api_docs: bool
    learning_curve: str
    community: str
    project_sizes: tuple[str, ...]
    production_server: str
    project_template: str
    notes: tuple[tuple[str, str], ...] = ()
    shown_in: tuple[tuple[str, str], ...] = ()

    @property
    def section_title(self) -> str:
        """Title of the article section this framework belongs to."""
        return SECTIONS.get(self.section, self.section)

    def note(self, fact: str) -> str:
        """Extra explanation of a fact, or an empty string."""
        return dict(self.notes).get(fact, "")

    def chapter_for(self, fact: str) -> str:
        """Name of the chapter that demonstrates ``fact`` for this framework."""
        if fact not in FACTS:
            raise ValueError(f"unknown fact {fact!r}; facts are: {', '.join(FACTS)}")
        return dict(self.shown_in).get(fact, self.chapter)

    def notebook_for(self, fact: str) -> str:
        """Path of the notebook that demonstrates ``fact`` for this framework."""
        return notebook_path(self.chapter_for(fact))

    def has(self, battery: str) -> bool:
        """Whether ``battery`` (one of BATTERIES) ships in the framework's core."""
        return battery in self.batteries


# --------------------------------------------------------------------------- parsing

_ENUMS: dict[str, tuple[str, ...]] = {
    "kind": KINDS,
    "focus": FOCUSES,
    "async_support": ASYNC_SUPPORT,
    "websockets": WEBSOCKETS,
    "learning_curve": LEARNING_CURVES,
    "community": COMMUNITY_SIZES,
}
_ENUM_LISTS: dict[str, tuple[str, ...]] = {
    "interfaces": INTERFACES,
    "batteries": BATTERIES,
    "project_sizes": PROJECT_SIZES,
}
_STRINGS = ("name", "section", "chapter", "distribution", "version", "production_server")
_OPTIONAL_STRINGS = ("project_template",)  # "" means: none
_STRING_LISTS = ("http_versions",)
_BOOLS = ("bundled_server", "single_file", "api_docs")


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{TABLE_PATH.name}: {where}: {message}")


def _one_of(where: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        choices = ", ".join(repr(v) for v in allowed)
        raise _fail(where, f"{value!r} is not one of {choices}")
    return value


def _string_list(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, f"expected a list of strings, got {value!r}")
    if len(set(value)) != len(value):
        raise _fail(where, f"duplicate entries in {value!r}")
    return tuple(value)


def _string_pairs(where: str, value: Any, *, known: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        raise _fail(where, f"expected a table, got {value!r}")
    for fact, text in value.items():
        _one_of(f"{where}.{fact}", fact, known)
        if not isinstance(text, str) or not text:
            raise _fail(f"{where}.{fact}", "expected a non-empty string")
    return tuple(value.items())


def _parse_profile(key: str, raw: Mapping[str, Any], sections: Mapping[str, str]) -> FrameworkProfile:
    where = f"frameworks.{key}"
    expected = set(_STRINGS + _OPTIONAL_STRINGS + _STRING_LISTS + _BOOLS)
    expected |= {"dependencies", "notes", "shown_in"}
    expected |= set(_ENUMS) | set(_ENUM_LISTS)
    unknown = set(raw) - expected
    if unknown:
        raise _fail(where, f"unknown fields {sorted(unknown)}")
    missing = (expected - {"notes", "shown_in"}) - set(raw)
    if missing:
        raise _fail(where, f"missing fields {sorted(missing)}")

    values: dict[str, Any] = {"key": key}
    for name in _STRINGS:
        if not isinstance(raw[name], str) or not raw[name]:
            raise _fail(f"{where}.{name}", f"expected a non-empty string, got {raw[name]!r}")
        values[name] = raw[name]
    _one_of(f"{where}.section", raw["section"], tuple(sections))
    for name in _OPTIONAL_STRINGS:
        if not isinstance(raw[name], str):
            raise _fail(f"{where}.{name}", f"expected a string, got {raw[name]!r}")
        values[name] = raw[name]
    for name in _BOOLS:
        if not isinstance(raw[name], bool):
            raise _fail(f"{where}.{name}", f"expected true or false, got {raw[name]!r}")
        values[name] = raw[name]
    dependencies = raw["dependencies"]
    if isinstance(dependencies, bool) or not isinstance(dependencies, int) or dependencies < 0:
        raise _fail(f"{where}.dependencies", f"expected a count >= 0, got {dependencies!r}")
    values["dependencies"] = dependencies
    for name, allowed in _ENUMS.items():
        values[name] = _one_of(f"{where}.{name}", raw[name], allowed)
    for name, allowed in _ENUM_LISTS.items():
        items = _string_list(f"{where}.{name}", raw[name])
        for item in items:
            _one_of(f"{where}.{name}", item, allowed)
        values[name] = tuple(v for v in allowed if v in items)  # canonical order
    if not values["interfaces"] or not values["project_sizes"]:
        raise _fail(where, "interfaces and project_sizes need at least one value")
    for name in _STRING_LISTS:
        values[name] = _string_list(f"{where}.{name}", raw[name])
    values["notes"] = _string_pairs(f"{where}.notes", raw.get("notes", {}), known=FACTS)
    values["shown_in"] = tuple(sorted(_string_pairs(f"{where}.shown_in", raw.get("shown_in", {}), known=FACTS)))
    return FrameworkProfile(**values)


def parse_table(data: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, FrameworkProfile]]:
    """Validate a parsed ``frameworks.toml`` and return (sections, profiles).

    Profiles come back in the article's order: by section, then as listed in the file.
    Raises ValueError on any unknown, missing or ill-typed fact.
    """
    sections = data.get("sections")
    if not isinstance(sections, dict) or not sections:
        raise _fail("sections", "expected a table of section key = title")
    frameworks = data.get("frameworks")
    if not isinstance(frameworks, dict) or not frameworks:
        raise _fail("frameworks", "expected a table of frameworks")
    parsed = [_parse_profile(key, raw, sections) for key, raw in frameworks.items()]
    section_order = list(sections)
    parsed.sort(key=lambda p: section_order.index(p.section))  # stable: file order kept
    empty = [s for s in sections if not any(p.section == s for p in parsed)]
    if empty:
        raise _fail("sections", f"no framework in section(s) {empty}")
    return dict(sections), {p.key: p for p in parsed}


@lru_cache(maxsize=8)
def _load_table(
    path: str,
) -> tuple[Mapping[str, Any], Mapping[str, str], tuple[tuple[str, FrameworkProfile], ...]]:
    with open(path, "rb") as file:
        data = tomllib.load(file)
    sections, profiles = parse_table(data)
    return MappingProxyType(data), MappingProxyType(sections), tuple(profiles.items())


def load_profiles(path: str | Path | None = None) -> dict[str, FrameworkProfile]:
    """All framework profiles keyed by framework key, in the article's order (cached).

    ``path`` defaults to the ``frameworks.toml`` shipped with the package. The dict
    is a fresh copy each call; the profiles themselves are immutable.
    """
    _, _, items = _load_table(str(path or TABLE_PATH))
    return dict(items)


def frameworks_in(section: str, profiles: Mapping[str, FrameworkProfile] | None = None) -> list[str]:
    """Keys of the frameworks of one article section, in table order."""
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}; sections are: {', '.join(SECTIONS)}")
    profiles = load_profiles() if profiles is None else profiles
    return [key for key, profile in profiles.items() if profile.section == section]


# SECTIONS: read-only mapping of section key -> title, in the article's order.
_DATA, SECTIONS, _ = _load_table(str(TABLE_PATH))

BENCHMARK_CHAPTER: str = _DATA["benchmark_chapter"]
PERFORMANCE_NOTE: str = _DATA["performance_note"]
DEPENDENCIES_NOTE: str = _DATA["dependencies_note"]
