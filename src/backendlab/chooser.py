"""The framework chooser: answers about a project, scored against facts that carry their evidence.

Three questions (:data:`QUESTIONS`): what you are building (one answer), which framework the
team already knows (one answer), and what the project needs (any number of answers). Every
answer adds points to frameworks through one fact of ``frameworks.toml``; every fact is
*demonstrated* (a chapter section shows it), *measured* (the committed benchmark results or the
installed package metadata), *documented* (the framework's docs at the pinned version) or a
*judgement* (labelled, with whose judgement it is). No rule names a framework.

Points per answer (a fact worth 0 gives no reason):

==================  ===========================================================================
building api        focus: APIs +2, APIs and pages +1
building web-app    focus: complete web apps +2, APIs and pages +1; templates built in +1
building real-time  WebSockets on its own server +2, routes only +1; native async handlers +1
building tool       one-file framework +1; gentle learning curve +1; no dependencies +1
building embedded   production server in your program: threaded +3, event loop +2, WSGI mount +1
team knows X        X +2 (judgement: what a team knows ships sooner)
needs orm           ORM with migrations built in +2, from an extension +1
needs admin         admin site built in +3
needs openapi       typed validation with OpenAPI built in +2, from an add-on +1
needs websockets    built in +3, routes only +2, none -1
needs addons        add-ons that override the app, in the core +3, by convention +1
needs few-deps      0 dependencies +2, 1-3 +1, 9 or more -1 (measured: installed metadata)
needs waiting       measured: 1000 slow requests held at once, >= 99 % answered +2, < 50 % -1
needs throughput    measured: GET /json req/s against the fastest, >= 80 % +2, >= 40 % +1
needs new           learning curve gentle +1, steep -1 (judgement)
==================  ===========================================================================

The points depend on one answer and one framework at a time, so the whole model is the table
:func:`scoring_table`: for each answer, each framework's reasons. :func:`rank` adds up the rows of
the chosen answers; the page's JavaScript (``chooser.js``) adds up the same exported rows, which
is what lets the chooser answer in the static book with no kernel. Ties keep the article's order.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .profiles import (
    BENCHMARK_CHAPTER,
    DEPENDENCIES_NOTE,
    PERFORMANCE_NOTE,
    SECTIONS,
    TABLE_PATH,
    FrameworkProfile,
    label,
    load_profiles,
)

__all__ = [
    "PRESETS",
    "QUESTIONS",
    "Answers",
    "Evidence",
    "Question",
    "Reason",
    "Recommendation",
    "all_answers",
    "chooser_html",
    "comparison_table_html",
    "comparison_table_markdown",
    "rank",
    "recommendations_html",
    "scoring_table",
    "show_chooser",
]

RESULTS_PATH = Path(__file__).resolve().parents[2] / "notebooks" / "benchmark_results" / "results.json"
SCRIPT_PATH = Path(__file__).with_name("chooser.js")
EVIDENCE_KINDS = ("demonstrated", "measured", "documented", "judgement")


@dataclass(frozen=True)
class Question:
    """One question: its prompt, its (value, label) options, and whether several may be chosen."""

    key: str
    prompt: str
    options: tuple[tuple[str, str], ...]
    multiple: bool = False

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.options)

    def label_of(self, value: str) -> str:
        return dict(self.options)[value]


def _team_options() -> tuple[tuple[str, str], ...]:
    return (("none", "None of them"), *((p.key, p.name) for p in load_profiles().values()))


QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        "building": Question(
            "building",
            "What are you building?",
            (
                ("api", "A JSON API or microservice"),
                ("web-app", "A website with pages, forms and users"),
                ("real-time", "Live updates: chat, dashboards, notifications"),
                ("tool", "A small internal tool or a teaching example"),
                ("embedded", "A web interface inside a program you already run"),
            ),
        ),
        "team": Question("team", "Does the team already know one of them?", _team_options()),
        "needs": Question(
            "needs",
            "What does the project need?",
            (
                ("orm", "A database through an ORM, with migrations"),
                ("admin", "An admin site to edit the data"),
                ("openapi", "Typed request validation and OpenAPI docs"),
                ("websockets", "WebSockets or server push"),
                ("addons", "Add-ons that extend or override the app"),
                ("few-deps", "As few dependencies as possible"),
                ("waiting", "Many requests that wait on other services at once"),
                ("throughput", "Raw throughput of short requests"),
                ("new", "A team new to web frameworks"),
            ),
            multiple=True,
        ),
    }
)


@dataclass(frozen=True)
class Answers:
    """Answers to :data:`QUESTIONS`; invalid values raise ValueError naming the allowed ones."""

    building: str = "api"
    team: str = "none"
    needs: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needs", frozenset([self.needs] if isinstance(self.needs, str) else self.needs))
        for name, question in QUESTIONS.items():
            chosen = sorted(self.needs) if question.multiple else [getattr(self, name)]
            for value in chosen:
                if value not in question.values:
                    allowed = ", ".join(repr(v) for v in question.values)
                    raise ValueError(f"{name}={value!r} is not allowed; choose from: {allowed}")

    @classmethod
    def from_form(cls, checked: Iterable[tuple[str, str]]) -> Answers:
        """The answers of a chooser form, from its checked inputs' (name, value) pairs."""
        pairs = list(checked)
        single = {name: value for name, value in pairs if name != "needs"}
        return cls(single["building"], single["team"], frozenset(v for n, v in pairs if n == "needs"))

    def chosen(self) -> list[tuple[str, str]]:
        """(question, answer) pairs in question order; needs in option order."""
        pairs = [("building", self.building), ("team", self.team)]
        return pairs + [("needs", v) for v in QUESTIONS["needs"].values if v in self.needs]

    def describe(self) -> str:
        building = QUESTIONS["building"].label_of(self.building)
        team = "" if self.team == "none" else f"; the team knows {QUESTIONS['team'].label_of(self.team)}"
        needs = [QUESTIONS["needs"].label_of(v) for _, v in self.chosen()[2:]]
        return f"{building}{team}" + (f"; needs: {' / '.join(needs)}" if needs else "")


@dataclass(frozen=True)
class Evidence:
    """Where a fact comes from: its kind, a readable source and a link (book-relative or URL)."""

    kind: str
    source: str
    href: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.source}"


@dataclass(frozen=True)
class Reason:
    """Points given or taken for one fact, with its evidence."""

    points: int
    fact: str
    text: str
    evidence: Evidence

    def __str__(self) -> str:
        return f"{self.points:+d} {self.text} [{self.evidence.kind}]"


@dataclass(frozen=True)
class Recommendation:
    """One framework's place in the ranking, with every contribution to its score."""

    key: str
    name: str
    score: int
    rank: int
    reasons: tuple[Reason, ...]
    chapter: str

    @property
    def reason_lines(self) -> list[str]:
        return [str(reason) for reason in self.reasons]


# The chooser shown at the end of each group's chapters starts from that group's typical project.
PRESETS: Mapping[str, Answers] = MappingProxyType(
    {
        "lightweight": Answers(building="api", needs=frozenset({"openapi"})),
        "full-stack": Answers(building="web-app", needs=frozenset({"orm", "admin"})),
        "async": Answers(building="real-time", needs=frozenset({"websockets", "waiting"})),
        "specialized": Answers(building="tool", needs=frozenset({"few-deps"})),
        "performance": Answers(building="api", needs=frozenset({"throughput", "waiting"})),
    }
)


# ------------------------------------------------------------------------- the facts

_CHOICE_FACTS = {
    "orm": ("built-in", "extension", "none"),
    "openapi": ("built-in", "add-on", "none"),
    "templates": ("built-in", "add-on", "none"),
    "addons": ("core", "conventions", "none"),
    "embedding": ("threaded", "event-loop", "wsgi-mount", "none"),
}
_PROFILE_FACTS = ("focus", "websockets", "async_support", "batteries", "single_file", "learning_curve")


def slug(heading: str) -> str:
    """The anchor Sphinx gives a heading: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


@dataclass(frozen=True)
class _Facts:
    profile: FrameworkProfile
    values: Mapping[str, str]
    evidence: Mapping[str, Evidence]
    throughput: tuple[float, float, float, float] | None  # rps, min, max, share of the fastest
    waiting: tuple[int, int, float] | None  # answered, sent, seconds allowed


def _evidence(where: str, raw: Any) -> Evidence:
    if not isinstance(raw, list) or not raw or raw[0] not in EVIDENCE_KINDS[:1] + EVIDENCE_KINDS[2:]:
        raise ValueError(
            f'{TABLE_PATH.name}: {where}: expected ["demonstrated", chapter, heading], '
            f'["documented", url] or ["judgement", whose], got {raw!r}'
        )
    kind = raw[0]
    if kind == "demonstrated":
        if len(raw) != 3:
            raise ValueError(f"{TABLE_PATH.name}: {where}: demonstrated needs a chapter and a heading")
        chapter, heading = raw[1], raw[2]
        return Evidence(
            kind, f"{chapter} chapter, section \u201c{heading}\u201d", f"../notebooks/{chapter}.html#{slug(heading)}"
        )
    if len(raw) != 2 or not raw[1]:
        raise ValueError(f"{TABLE_PATH.name}: {where}: {kind} needs one source")
    if kind == "documented":
        url = raw[1].split()[0]
        return Evidence(kind, raw[1], url)
    return Evidence(kind, raw[1])


def _benchmark_figures(path: Path) -> tuple[dict[str, tuple[float, ...]], dict[str, tuple[int, int, float]]]:
    results = json.loads(path.read_text())
    rows = [
        r
        for r in results["summary"]
        if r["tool"] == "python" and r["path"] == "/json" and r["concurrency"] == 64 and r["framework"] != "bare"
    ]
    best = max(r["rps"] for r in rows)
    throughput = {r["framework"]: (r["rps"], r["rps_min"], r["rps_max"], r["rps"] / best) for r in rows}
    waiting = {m["framework"]: (m["ok"], m["connections"], m["timeout_s"]) for m in results["many_connections"]}
    return throughput, waiting


@lru_cache(maxsize=4)
def _load_facts(table: str, results: str) -> tuple[tuple[str, _Facts], ...]:
    with open(table, "rb") as file:
        choice = tomllib.load(file).get("choice", {})
    throughput, waiting = _benchmark_figures(Path(results))
    facts = []
    for key, profile in load_profiles().items():
        raw = choice.get(key)
        if not isinstance(raw, dict):
            raise ValueError(f"{TABLE_PATH.name}: [choice.{key}] is missing")
        values = {}
        for fact, allowed in _CHOICE_FACTS.items():
            if raw.get(fact) not in allowed:
                raise ValueError(f"{TABLE_PATH.name}: choice.{key}.{fact}: {raw.get(fact)!r} is not one of {allowed}")
            values[fact] = raw[fact]
        raw_evidence = raw.get("evidence", {})
        needed = set(_CHOICE_FACTS) | set(_PROFILE_FACTS)
        if set(raw_evidence) != needed:
            raise ValueError(
                f"{TABLE_PATH.name}: choice.{key}.evidence: missing {sorted(needed - set(raw_evidence))}, "
                f"unknown {sorted(set(raw_evidence) - needed)}"
            )
        evidence = {f: _evidence(f"choice.{key}.evidence.{f}", v) for f, v in raw_evidence.items()}
        facts.append((key, _Facts(profile, values, evidence, throughput.get(key), waiting.get(key))))
    return tuple(facts)


def _facts() -> dict[str, _Facts]:
    return dict(_load_facts(str(TABLE_PATH), str(RESULTS_PATH)))


# ------------------------------------------------------------------------- the rules

_BENCH = f"../notebooks/{BENCHMARK_CHAPTER}.html"


def _measured_deps(f: _Facts) -> Evidence:
    return Evidence("measured", f"required distributions of {f.profile.distribution} in its installed metadata")


def _rule(question: str, answer: str, f: _Facts) -> list[Reason]:  # noqa: C901 - one branch per answer
    p, v, e = f.profile, f.values, f.evidence
    out: list[Reason] = []

    def add(points: int, fact: str, text: str, evidence: Evidence | None = None) -> None:
        if points:
            out.append(Reason(points, fact, text, evidence or e[fact]))

    if question == "team":
        if answer == p.key:
            add(
                2,
                "team",
                "the team already knows it",
                Evidence("judgement", "the course authors: a framework the team knows ships sooner than a better fit"),
            )
        return out
    if question == "building":
        if answer in ("api", "web-app"):
            wanted = "api" if answer == "api" else "full-stack"
            add({wanted: 2, "both": 1}.get(p.focus, 0), "focus", f"made for {label('focus', p.focus)}")
            if answer == "web-app":
                add(1 if v["templates"] == "built-in" else 0, "templates", "templates for HTML pages built in")
        elif answer == "real-time":
            add(
                {"built-in": 2, "routes-only": 1}.get(p.websockets, 0),
                "websockets",
                f"WebSockets: {label('websockets', p.websockets)}",
            )
            add(1 if p.async_support == "native" else 0, "async_support", "coroutine handlers on an event loop")
        elif answer == "tool":
            add(1 if p.single_file else 0, "single_file", "the whole framework is one file")
            add(1 if p.learning_curve == "gentle" else 0, "learning_curve", "gentle learning curve")
            add(1 if p.dependencies == 0 else 0, "dependencies", "no dependencies beyond Python", _measured_deps(f))
        elif answer == "embedded":
            texts = {
                "threaded": "a threaded production server that runs inside your program",
                "event-loop": "its server runs inside your program, on an event loop it needs",
                "wsgi-mount": "a WSGI app any server inside your program can host",
            }
            add(
                {"threaded": 3, "event-loop": 2, "wsgi-mount": 1}.get(v["embedding"], 0),
                "embedding",
                texts.get(v["embedding"], ""),
            )
        return out
    # needs
    if answer == "orm":
        add({"built-in": 2, "extension": 1}.get(v["orm"], 0), "orm", f"ORM and migrations: {v['orm']}")
    elif answer == "admin":
        add(3 if "admin" in p.batteries else 0, "batteries", "an admin site built in")
    elif answer == "openapi":
        add(
            {"built-in": 2, "add-on": 1}.get(v["openapi"], 0),
            "openapi",
            f"typed validation with OpenAPI: {v['openapi']}",
        )
    elif answer == "websockets":
        add(
            {"built-in": 3, "routes-only": 2, "none": -1}[p.websockets],
            "websockets",
            f"WebSockets: {label('websockets', p.websockets)}",
        )
    elif answer == "addons":
        add({"core": 3, "conventions": 1}.get(v["addons"], 0), "addons", f"add-ons: {v['addons']}")
    elif answer == "few-deps":
        n = p.dependencies
        add(
            2 if n == 0 else 1 if n <= 3 else -1 if n >= 9 else 0,
            "dependencies",
            f"{n} required dependencies",
            _measured_deps(f),
        )
    elif answer == "waiting" and f.waiting:
        ok, sent, allowed = f.waiting
        share = ok / sent
        add(
            2 if share >= 0.99 else -1 if share < 0.5 else 0,
            "waiting",
            f"{ok} of {sent} requests that each wait 1 s answered within {allowed:g} s",
            Evidence(
                "measured",
                "the benchmark chapter, section \u201cA thousand slow requests at once\u201d",
                f"{_BENCH}#a-thousand-slow-requests-at-once",
            ),
        )
    elif answer == "throughput" and f.throughput:
        rps, low, high, share = f.throughput
        add(
            2 if share >= 0.8 else 1 if share >= 0.4 else 0,
            "throughput",
            f"{rps:,.0f} req/s on GET /json ({low:,.0f}\u2013{high:,.0f}), {share:.0%} of the fastest",
            Evidence(
                "measured",
                "the benchmark chapter, section \u201cThroughput and latency\u201d",
                f"{_BENCH}#throughput-and-latency",
            ),
        )
    elif answer == "new":
        add({"gentle": 1, "steep": -1}.get(p.learning_curve, 0), "learning_curve", f"{p.learning_curve} learning curve")
    return out


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, dict[str, tuple[Reason, ...]]]]:
    facts = _facts()
    return {
        q.key: {a: {key: tuple(_rule(q.key, a, f)) for key, f in facts.items()} for a in q.values}
        for q in QUESTIONS.values()
    }


def scoring_table() -> dict[str, Any]:
    """The whole model as JSON-ready data: frameworks in article order, questions, and for every
    answer every framework's reasons as ``[points, text, evidence kind, source, href]``."""
    profiles = load_profiles()
    return {
        "frameworks": [{"key": p.key, "name": p.name, "chapter": p.chapter} for p in profiles.values()],
        "questions": [
            {"key": q.key, "prompt": q.prompt, "multiple": q.multiple, "options": [list(o) for o in q.options]}
            for q in QUESTIONS.values()
        ],
        "reasons": {
            question: {
                answer: {
                    key: [[r.points, r.text, r.evidence.kind, r.evidence.source, r.evidence.href] for r in reasons]
                    for key, reasons in per_answer.items()
                }
                for answer, per_answer in answers.items()
            }
            for question, answers in _table().items()
        },
    }


def rank(answers: Answers) -> list[Recommendation]:
    """Every framework for ``answers``, best first: the sum of the chosen answers' rows."""
    if not isinstance(answers, Answers):
        raise TypeError(f"answers must be an Answers instance, got {type(answers).__name__}")
    table = _table()
    scored = []
    for position, profile in enumerate(load_profiles().values()):
        reasons = tuple(r for q, a in answers.chosen() for r in table[q][a][profile.key])
        scored.append((-sum(r.points for r in reasons), position, profile, reasons))
    scored.sort(key=lambda item: item[:2])
    return [
        Recommendation(profile.key, profile.name, -negative, place, reasons, profile.chapter)
        for place, (negative, _, profile, reasons) in enumerate(scored, start=1)
    ]


def all_answers() -> Iterable[Answers]:
    """Every combination of answers (building x team x every subset of needs)."""
    needs = QUESTIONS["needs"].values
    for building in QUESTIONS["building"].values:
        for team in QUESTIONS["team"].values:
            for mask in range(1 << len(needs)):
                yield Answers(building, team, frozenset(n for i, n in enumerate(needs) if mask >> i & 1))


# ------------------------------------------------------------------------ rendering

_e = html.escape


def _evidence_html(evidence: Evidence) -> str:
    source = _e(evidence.source)
    if evidence.href:
        source = f'<a href="{_e(evidence.href)}">{source}</a>'
    return f'<span class="evidence evidence-{evidence.kind}">{evidence.kind}</span>: {source}'


def recommendations_html(answers: Answers) -> str:
    """The ranking for ``answers`` as static HTML; ``chooser.js`` renders the same markup."""
    ranking = rank(answers)
    items = []
    for rec in ranking:
        reasons = (
            "".join(
                f'<li class="{"plus" if r.points > 0 else "minus"}">{r.points:+d} {_e(r.text)} '
                f"<small>({_evidence_html(r.evidence)})</small></li>"
                for r in rec.reasons
            )
            or "<li>no answer moves it either way</li>"
        )
        items.append(f"<li><strong>{_e(rec.name)}</strong>: {_points(rec.score)}<ul>{reasons}</ul></li>")
    top = [rec for rec in ranking if rec.score == ranking[0].score]
    names = ", ".join(f"<strong>{_e(rec.name)}</strong>" for rec in top)
    best = (f"Best fit: {names} ({_points(top[0].score)})." if len(top) == 1 else
            f"Tied at {_points(top[0].score)}: {names} (listed in the article's order).")
    return f'<p class="backendlab-chooser-best">{best} {_e(answers.describe())}.</p><ol>{"".join(items)}</ol>'


def _points(score: int) -> str:
    return f"{score} point" if abs(score) == 1 else f"{score} points"


def _controls_html(answers: Answers) -> str:
    groups = []
    for q in QUESTIONS.values():
        kind = "checkbox" if q.multiple else "radio"
        chosen = answers.needs if q.multiple else {getattr(answers, q.key)}
        inputs = "".join(
            f'<label><input type="{kind}" name="{q.key}" value="{_e(value)}"'
            f"{' checked' if value in chosen else ''}> {_e(text)}</label>"
            for value, text in q.options
        )
        groups.append(f"<fieldset><legend>{_e(q.prompt)}</legend>{inputs}</fieldset>")
    return "".join(groups)


def chooser_html(answers: Answers | None = None) -> str:
    """The chooser as one self-contained HTML fragment: controls, the ranking for ``answers``,
    the exported scoring table and the script that re-ranks on every change, with or without
    a kernel (the static book, JupyterLab, any browser; no network)."""
    answers = answers or Answers()
    data = json.dumps(scoring_table(), separators=(",", ":")).replace("</", "<\\/")
    return (
        '<form class="backendlab-chooser" aria-label="Framework chooser">'
        f"{_controls_html(answers)}"
        f'<div class="backendlab-chooser-result" aria-live="polite">{recommendations_html(answers)}</div>'
        f'<script type="application/json" class="backendlab-chooser-data">{data}</script>'
        f"<script>{SCRIPT_PATH.read_text()}</script>"
        "</form>"
    )


def _measured_throughput(key: str) -> str:
    figures = _facts()[key].throughput
    if figures is None:
        return "not measured"
    rps, low, high, _ = figures
    return f"{rps:,.0f} ({low:,.0f}\u2013{high:,.0f})"


_COLUMNS: Mapping[str, tuple[str, Any]] = MappingProxyType(
    {
        "framework": ("Framework", lambda p: p.name),
        "section": ("Section", lambda p: f"{list(SECTIONS).index(p.section) + 1}. {p.section}"),
        "interface": ("Interface", lambda p: " + ".join(p.interfaces)),
        "focus": ("Made for", lambda p: label("focus", p.focus)),
        "async": ("Async", lambda p: p.async_support),
        "websockets": ("WebSockets", lambda p: p.websockets),
        "batteries": ("Built in", lambda p: ", ".join(label("batteries", b) for b in p.batteries) or "none"),
        "dependencies": ("Deps", lambda p: str(p.dependencies)),
        "throughput": ("Throughput, req/s*", lambda p: _measured_throughput(p.key)),
        "server": ("Production server", lambda p: p.production_server),
        "chapter": ("Chapter", lambda p: p.chapter),
    }
)
ALL_COLUMNS = tuple(_COLUMNS)
# The columns that matter for each group's question, after its chapters.
PRESET_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "lightweight": ("framework", "interface", "async", "batteries", "dependencies", "server"),
        "full-stack": ("framework", "interface", "batteries", "dependencies", "server"),
        "async": ("framework", "interface", "async", "websockets", "throughput", "server"),
        "specialized": ("framework", "batteries", "dependencies", "server"),
        "performance": ("framework", "interface", "async", "throughput", "server"),
    }
)


def comparison_table_html(columns: Iterable[str] = ALL_COLUMNS) -> str:
    """The frameworks and the chosen columns as a plain, escaped HTML table."""
    columns = tuple(columns)
    head = "".join(f'<th scope="col">{_e(_COLUMNS[c][0])}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_COLUMNS[c][1](p))}</td>" for c in columns) + "</tr>"
        for p in load_profiles().values()
    )
    notes = [DEPENDENCIES_NOTE] + ([f"* {PERFORMANCE_NOTE}"] if "throughput" in columns else [])
    return (
        '<table class="backendlab-comparison"><caption>Eight Python backend frameworks at a glance</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f'<tfoot><tr><td colspan="{len(columns)}">{_e(" ".join(notes))}</td></tr></tfoot></table>'
    )


def comparison_table_markdown(columns: Iterable[str] = ALL_COLUMNS) -> str:
    """The comparison table as a Markdown (GFM) table with its notes below."""
    columns = tuple(columns)

    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(_COLUMNS[c][0] for c in columns), line("---" for _ in columns)]
    lines += [line(_COLUMNS[c][1](p) for c in columns) for p in load_profiles().values()]
    return "\n".join(lines) + f"\n\n{DEPENDENCIES_NOTE} \\* {PERFORMANCE_NOTE}\n"


def show_chooser(preset: str | None = None) -> None:
    """Display the chooser (starting from a group's preset) and the comparison table.

    With a preset, the table shows only the columns that matter for that group.
    """
    from IPython.display import HTML, display

    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; presets are: {', '.join(PRESETS)}")
    display(HTML(chooser_html(PRESETS[preset] if preset else None)))
    display(HTML(comparison_table_html(PRESET_COLUMNS[preset] if preset else ALL_COLUMNS)))
