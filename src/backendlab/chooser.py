"""The framework chooser: the article's "how to choose" advice, computed from facts.

Four questions (:class:`Answers`) are scored against every framework profile
(:mod:`backendlab.profiles`). Each rule below looks at one profile fact and adds or
removes points, so the ranking follows the table: edit ``frameworks.toml`` and the
advice changes with it. No rule names a framework.

Scoring (points per answer; a fact with no points produces no reason):

* building ``api``: focus api +3, both +2, full-stack -1; OpenAPI docs generated +1.
* building ``full-stack``: focus full-stack +3, both +2, api -1; +1 per battery built
  in (ORM, admin, auth, ...), -1 if none.
* building ``real-time``: WebSockets built in +4, routes only +2, none -2; native
  async +2, synchronous -1; own event-loop server included +1.
* building ``small-tool``: 0 dependencies +2, 1-5 +1, 9 or more -1; micro or
  minimalist kind +2; single file +1; production server included +1.
* scale ``small``: fits small projects +2, else -1. ``growing``: fits both small and
  large projects +2, small only -1. ``large``: fits large projects +2, else -2.
* experience ``new``: learning curve gentle +2, steep -2; community large +2,
  medium +1. ``some``: steep -1, large community +1. ``experienced``: no points.
* performance ``critical``: async native +3, partial +1, otherwise -1.

Ties: higher score first; equal scores keep the article's order (section 1 to 4,
then the order of the table), which is also the order of ``load_profiles()``.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import ipywidgets as widgets

from .profiles import (
    DEPENDENCIES_NOTE,
    PERFORMANCE_NOTE,
    SECTIONS,
    FrameworkProfile,
    label,
    load_profiles,
)

__all__ = [
    "PRESETS",
    "QUESTIONS",
    "Answers",
    "Chooser",
    "Question",
    "Reason",
    "Recommendation",
    "chooser",
    "comparison_table_html",
    "comparison_table_markdown",
    "rank",
    "recommendations_html",
    "show_chooser",
]

Profiles = Mapping[str, FrameworkProfile]


@dataclass(frozen=True)
class Question:
    """One chooser question: its prompt and its (value, label) options."""

    prompt: str
    options: tuple[tuple[str, str], ...]

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed answer values, in display order."""
        return tuple(value for value, _ in self.options)

    def label_of(self, value: str) -> str:
        """The button label of an answer value."""
        return dict(self.options)[value]


QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        "building": Question(
            "What are you building?",
            (
                ("api", "An API or microservice"),
                ("full-stack", "A complete web application"),
                ("real-time", "Something real-time (chat, live data)"),
                ("small-tool", "A small tool or internal service"),
            ),
        ),
        "scale": Question(
            "How big will it get?",
            (
                ("small", "It stays small"),
                ("growing", "Starts small, will grow"),
                ("large", "Large from day one"),
            ),
        ),
        "experience": Question(
            "Your Python web experience?",
            (
                ("new", "New to it"),
                ("some", "Some"),
                ("experienced", "Experienced"),
            ),
        ),
        "performance": Question(
            "How critical is performance?",
            (
                ("normal", "Normal"),
                ("critical", "Critical"),
            ),
        ),
    }
)


@dataclass(frozen=True)
class Answers:
    """Answers to the four "how to choose" questions; invalid values raise ValueError."""

    building: str = "api"
    scale: str = "growing"
    experience: str = "some"
    performance: str = "normal"

    def __post_init__(self) -> None:
        for name, question in QUESTIONS.items():
            value = getattr(self, name)
            if value not in question.values:
                allowed = ", ".join(repr(v) for v in question.values)
                raise ValueError(f"{name}={value!r} is not allowed; choose one of: {allowed}")

    def describe(self) -> str:
        """The answers as a short readable phrase."""
        return "; ".join(
            f"{question.prompt} {question.label_of(getattr(self, name))}" for name, question in QUESTIONS.items()
        )


@dataclass(frozen=True)
class Reason:
    """Points given or taken for one profile fact."""

    points: int
    fact: str
    text: str

    def __str__(self) -> str:
        return f"{self.points:+d} {self.text}"


@dataclass(frozen=True)
class Recommendation:
    """One framework's place in the ranking, with the reasons behind its score."""

    key: str
    name: str
    score: int
    rank: int
    reasons: tuple[Reason, ...]
    chapter: str

    @property
    def reason_lines(self) -> list[str]:
        """The reasons as readable lines such as ``+4 WebSockets: built in``."""
        return [str(reason) for reason in self.reasons]


PRESETS: Mapping[str, Answers] = MappingProxyType(
    {
        "lightweight": Answers(building="api", scale="small", experience="some"),
        "full-stack": Answers(building="full-stack", scale="growing", experience="some"),
        "async": Answers(building="real-time", scale="growing", experience="experienced", performance="critical"),
        "specialized": Answers(building="small-tool", scale="small", experience="some"),
    }
)

# ------------------------------------------------------------------------- scoring

_FOCUS_POINTS = {"match": 3, "both": 2, "other": -1}
_WEBSOCKET_POINTS = {"built-in": 4, "routes-only": 2, "none": -2}
_LEARNING_POINTS = {
    "new": {"gentle": 2, "moderate": 0, "steep": -2},
    "some": {"gentle": 0, "moderate": 0, "steep": -1},
}
_COMMUNITY_POINTS = {
    "new": {"large": 2, "medium": 1, "small": 0},
    "some": {"large": 1, "medium": 0, "small": 0},
}
_CRITICAL_ASYNC_POINTS = {"native": 3, "partial": 1, "per-request": -1, "none": -1}
_SMALL_TOOL_KINDS = ("micro", "minimalist")


def _focus_reason(profile: FrameworkProfile, wanted: str) -> Reason:
    if profile.focus == wanted:
        points = _FOCUS_POINTS["match"]
    elif profile.focus == "both":
        points = _FOCUS_POINTS["both"]
    else:
        points = _FOCUS_POINTS["other"]
    return Reason(points, "focus", f"made for {label('focus', profile.focus)}")


def _building_reasons(building: str, p: FrameworkProfile) -> Iterator[Reason]:
    if building == "api":
        yield _focus_reason(p, "api")
        if p.api_docs:
            yield Reason(1, "api_docs", "generates OpenAPI docs from the code")
    elif building == "full-stack":
        yield _focus_reason(p, "full-stack")
        if p.batteries:
            built_in = ", ".join(label("batteries", b) for b in p.batteries)
            yield Reason(len(p.batteries), "batteries", f"built in: {built_in}")
        else:
            yield Reason(-1, "batteries", "no templates, ORM or auth in the core")
        if p.project_template:
            yield Reason(2, "project_template", f"official project template: {p.project_template}")
    elif building == "real-time":
        yield Reason(
            _WEBSOCKET_POINTS[p.websockets],
            "websockets",
            f"WebSockets: {label('websockets', p.websockets)}",
        )
        if p.async_support == "native":
            yield Reason(2, "async_support", "coroutine handlers keep many connections open cheaply")
        elif p.async_support in ("per-request", "none"):
            yield Reason(-1, "async_support", "synchronous handlers: an open connection holds a worker")
        if p.bundled_server and p.async_support == "native":
            yield Reason(1, "bundled_server", "its own event-loop server holds long-lived connections")
    elif building == "small-tool":
        if p.dependencies == 0:
            yield Reason(2, "dependencies", "no dependencies beyond Python")
        elif p.dependencies <= 5:
            yield Reason(1, "dependencies", f"only {p.dependencies} runtime dependencies")
        elif p.dependencies >= 9:
            yield Reason(-1, "dependencies", f"{p.dependencies} runtime dependencies to install")
        if p.kind in _SMALL_TOOL_KINDS:
            yield Reason(2, "kind", label("kind", p.kind))
        if p.single_file:
            yield Reason(1, "single_file", "the whole framework is one file")
        if p.bundled_server:
            yield Reason(1, "bundled_server", f"production server included: {p.production_server}")


def _scale_reasons(scale: str, p: FrameworkProfile) -> Iterator[Reason]:
    sizes = p.project_sizes
    fits = " and ".join(sizes)
    if scale == "small":
        if "small" in sizes:
            yield Reason(2, "project_sizes", "suits small projects")
        else:
            yield Reason(-1, "project_sizes", f"aimed at {fits} projects")
    elif scale == "growing":
        if "small" in sizes and "large" in sizes:
            yield Reason(2, "project_sizes", "fits a small start and a large finish")
        elif "medium" not in sizes and "large" not in sizes:
            yield Reason(-1, "project_sizes", "aimed at small projects")
    elif scale == "large":
        if "large" in sizes:
            yield Reason(2, "project_sizes", "proven on large projects")
        else:
            yield Reason(-2, "project_sizes", f"aimed at {fits} projects")


def _experience_reasons(experience: str, p: FrameworkProfile) -> Iterator[Reason]:
    if experience not in _LEARNING_POINTS:
        return
    yield Reason(
        _LEARNING_POINTS[experience][p.learning_curve],
        "learning_curve",
        f"{p.learning_curve} learning curve",
    )
    yield Reason(
        _COMMUNITY_POINTS[experience][p.community],
        "community",
        f"{p.community} community: tutorials, answers and extensions",
    )


def _performance_reasons(performance: str, p: FrameworkProfile) -> Iterator[Reason]:
    if performance == "critical":
        yield Reason(
            _CRITICAL_ASYNC_POINTS[p.async_support],
            "async_support",
            f"async support {label('async_support', p.async_support)}",
        )


def _reasons(answers: Answers, profile: FrameworkProfile) -> tuple[Reason, ...]:
    found = [
        *_building_reasons(answers.building, profile),
        *_scale_reasons(answers.scale, profile),
        *_experience_reasons(answers.experience, profile),
        *_performance_reasons(answers.performance, profile),
    ]
    return tuple(reason for reason in found if reason.points)


def rank(answers: Answers, profiles: Profiles | None = None) -> list[Recommendation]:
    """Rank every framework for ``answers``, best first (pure and deterministic).

    Ties keep the order of ``profiles`` (the article's order for the default table).
    """
    if not isinstance(answers, Answers):
        raise TypeError(f"answers must be an Answers instance, got {type(answers).__name__}")
    profiles = load_profiles() if profiles is None else profiles
    scored = []
    for position, profile in enumerate(profiles.values()):
        reasons = _reasons(answers, profile)
        scored.append((-sum(r.points for r in reasons), position, profile, reasons))
    scored.sort(key=lambda item: item[:2])
    return [
        Recommendation(
            key=profile.key,
            name=profile.name,
            score=-negative_score,
            rank=place,
            reasons=reasons,
            chapter=profile.chapter,
        )
        for place, (negative_score, _, profile, reasons) in enumerate(scored, start=1)
    ]


# ------------------------------------------------------------------------ rendering

_e = html.escape


def recommendations_html(answers: Answers, profiles: Profiles | None = None) -> str:
    """The ranking for ``answers`` as a static HTML fragment (no ids, no scripts)."""
    ranking = rank(answers, profiles)
    items = []
    for rec in ranking:
        reasons = (
            "".join(f'<li class="{"plus" if r.points > 0 else "minus"}">{_e(str(r))}</li>' for r in rec.reasons)
            or "<li>no question tips the balance either way</li>"
        )
        items.append(
            f"<li><strong>{_e(rec.name)}</strong> &ndash; {rec.score} points"
            f" <small>(chapter: {_e(rec.chapter)})</small><ul>{reasons}</ul></li>"
        )
    best = ranking[0]
    return (
        '<div class="backendlab-chooser-result">'
        f"<p>Best fit: <strong>{_e(best.name)}</strong>. {_e(answers.describe())}</p>"
        f"<ol>{''.join(items)}</ol></div>"
    )


def _table_rows(profiles: Profiles) -> list[tuple[str, ...]]:
    section_numbers = {key: number for number, key in enumerate(SECTIONS, start=1)}
    rows = []
    for p in profiles.values():
        batteries = ", ".join(label("batteries", b) for b in p.batteries) or "none"
        rows.append(
            (
                p.name,
                f"{section_numbers.get(p.section, '?')}. {p.section}",
                p.kind,
                " + ".join(p.interfaces),
                p.focus,
                p.async_support,
                p.websockets,
                batteries,
                str(p.dependencies),
                p.learning_curve,
                p.performance_class,
                p.production_server,
                p.chapter,
            )
        )
    return rows


_TABLE_HEADER = (
    "Framework",
    "Section",
    "Kind",
    "Interface",
    "API or full-stack",
    "Async",
    "WebSockets",
    "Built in",
    "Deps",
    "Learning curve",
    "Performance class*",
    "Production server",
    "Chapter",
)


def comparison_table_html(profiles: Profiles | None = None) -> str:
    """All frameworks and their key facts as a plain, escaped HTML table."""
    profiles = load_profiles() if profiles is None else profiles
    head = "".join(f"<th>{_e(title)}</th>" for title in _TABLE_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in _table_rows(profiles))
    foot = f"* {PERFORMANCE_NOTE} {DEPENDENCIES_NOTE}"
    return (
        '<table class="backendlab-comparison">'
        "<caption>Eight Python backend frameworks at a glance</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f'<tfoot><tr><td colspan="{len(_TABLE_HEADER)}">{_e(foot)}</td></tr></tfoot>'
        "</table>"
    )


def comparison_table_markdown(profiles: Profiles | None = None) -> str:
    """The comparison table as a Markdown (GFM) table with the notes below it."""
    profiles = load_profiles() if profiles is None else profiles

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(_TABLE_HEADER), line(tuple("---" for _ in _TABLE_HEADER))]
    lines += [line(row) for row in _table_rows(profiles)]
    return "\n".join(lines) + f"\n\n\\* {PERFORMANCE_NOTE} {DEPENDENCIES_NOTE}\n"


# --------------------------------------------------------------------------- widget


class Chooser(widgets.VBox):
    """Four question buttons above the live ranking.

    ``controls`` maps each question name to its ToggleButtons; ``result`` is the
    HTML widget with the ranking, filled at construction and on every change.
    """

    def __init__(self, answers: Answers | None = None, profiles: Profiles | None = None, **kwargs: Any) -> None:
        answers = Answers() if answers is None else answers
        self.profiles = load_profiles() if profiles is None else dict(profiles)
        self.controls: dict[str, widgets.ToggleButtons] = {
            name: widgets.ToggleButtons(
                options=[(text, value) for value, text in question.options],
                value=getattr(answers, name),
                description=question.prompt,
                style={"description_width": "initial", "button_width": "auto"},
            )
            for name, question in QUESTIONS.items()
        }
        self.result = widgets.HTML(value=recommendations_html(answers, self.profiles))
        super().__init__(children=[*self.controls.values(), self.result], **kwargs)
        for control in self.controls.values():
            control.observe(self._refresh, names="value")

    @property
    def answers(self) -> Answers:
        """The answers currently selected in the controls."""
        return Answers(**{name: control.value for name, control in self.controls.items()})

    def _refresh(self, _change: Any = None) -> None:
        self.result.value = recommendations_html(self.answers, self.profiles)


def _preset_answers(preset: str | None) -> Answers:
    if preset is None:
        return Answers()
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; presets are: {', '.join(PRESETS)}")
    return PRESETS[preset]


def chooser(preset: str | None = None) -> Chooser:
    """A chooser widget, starting from a section preset (see PRESETS) or the defaults."""
    return Chooser(_preset_answers(preset))


def show_chooser(preset: str | None = None) -> None:
    """Display the chooser widget, then the static comparison table as plain HTML.

    The table is a separate output so a static page without a kernel still shows it.
    """
    from IPython.display import HTML, display

    display(chooser(preset))
    display(HTML(comparison_table_html()))
