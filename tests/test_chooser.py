"""Tests of the framework profile table and of the chooser built on it."""

from __future__ import annotations

import collections
import dataclasses
import html
import importlib.metadata
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from backendlab import chooser as chooser_module
from backendlab.chooser import (
    ALL_COLUMNS,
    PRESET_COLUMNS,
    PRESETS,
    QUESTIONS,
    Answers,
    all_answers,
    chooser_html,
    comparison_table_html,
    comparison_table_markdown,
    rank,
    recommendations_html,
    scoring_table,
    show_chooser,
    slug,
)
from backendlab.profiles import (
    FACTS,
    SECTIONS,
    TABLE_PATH,
    frameworks_in,
    load_profiles,
    parse_table,
)

FRAMEWORKS = ("flask", "fastapi", "django", "pyramid", "tornado", "sanic", "bottle", "cherrypy")
ARTICLE_SECTIONS = {
    "lightweight": ["flask", "fastapi"],
    "full-stack": ["django", "pyramid"],
    "async": ["tornado", "sanic"],
    "specialized": ["bottle", "cherrypy"],
}
ROOT = Path(__file__).resolve().parents[1]
ALL_ANSWERS = list(all_answers())


def top(answers: Answers, n: int = 1) -> list[str]:
    return [rec.key for rec in rank(answers)[:n]]


def runtime_dependencies(distribution: str) -> set[str]:
    """Required third-party distributions of an installed package, for this platform."""
    names = set()
    for line in importlib.metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.add(canonicalize_name(requirement.name))
    return names


def raw_table() -> dict:
    with open(TABLE_PATH, "rb") as file:
        return tomllib.load(file)


# ----------------------------------------------------------------------- profile table


def test_every_framework_has_a_profile_in_article_order():
    assert tuple(load_profiles()) == FRAMEWORKS


def test_sections_follow_the_article():
    assert list(SECTIONS) == list(ARTICLE_SECTIONS)
    for section, keys in ARTICLE_SECTIONS.items():
        assert frameworks_in(section) == keys
    assert "APIs and microservices" in SECTIONS["lightweight"]
    with pytest.raises(ValueError, match="lightweight"):
        frameworks_in("nope")


def test_load_profiles_is_cached_but_returns_a_fresh_dict():
    first, second = load_profiles(), load_profiles()
    assert first == second and first is not second
    assert first["flask"] is second["flask"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first["flask"].dependencies = 99


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_installed_version_matches_the_pinned_one(key):
    profile = load_profiles()[key]
    installed = importlib.metadata.version(profile.distribution)
    assert installed == profile.version or installed.startswith(profile.version + ".")


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_dependency_count_matches_installed_metadata(key):
    profile = load_profiles()[key]
    found = runtime_dependencies(profile.distribution)
    assert profile.dependencies == len(found), sorted(found)


def test_known_facts_of_the_pinned_versions():
    p = load_profiles()
    assert p["bottle"].dependencies == 0 and p["bottle"].single_file
    assert {"orm", "admin", "auth"} <= set(p["django"].batteries)
    assert p["sanic"].websockets == "built-in" and p["tornado"].websockets == "built-in"
    assert not any("HTTP/2" in v for v in p["sanic"].http_versions)
    assert "no HTTP/2" in p["sanic"].note("http_versions")
    assert p["fastapi"].api_docs and p["fastapi"].interfaces == ("ASGI",)
    assert p["flask"].interfaces == ("WSGI",) and p["flask"].async_support == "per-request"
    assert not any(p[k].has("orm") for k in FRAMEWORKS if k != "django")


def test_every_fact_points_to_a_chapter_notebook():
    for profile in load_profiles().values():
        for fact in FACTS:
            assert profile.notebook_for(fact).startswith("notebooks/")
            assert profile.notebook_for(fact).endswith(".ipynb")
        assert profile.notebook_for("websockets") == f"notebooks/{profile.key}.ipynb"
        with pytest.raises(ValueError):
            profile.chapter_for("colour")


def test_table_validation_rejects_bad_values():
    data = raw_table()
    data["frameworks"]["flask"]["async_support"] = "sometimes"
    with pytest.raises(ValueError, match="flask.async_support.*'native'"):
        parse_table(data)
    data = raw_table()
    del data["frameworks"]["bottle"]["dependencies"]
    with pytest.raises(ValueError, match="missing fields"):
        parse_table(data)
    data = raw_table()
    data["frameworks"]["django"]["batteries"].append("jetpack")
    with pytest.raises(ValueError, match="jetpack"):
        parse_table(data)


def test_profiles_can_be_loaded_from_another_table(tmp_path):
    text = TABLE_PATH.read_text().replace('learning_curve = "steep"', 'learning_curve = "gentle"')
    other = tmp_path / "frameworks.toml"
    other.write_text(text)
    assert load_profiles(other)["pyramid"].learning_curve == "gentle"
    assert load_profiles()["pyramid"].learning_curve == "steep"


# ---------------------------------------------------------------------- the scenarios
# Written before the points were set. Each: a project as a user would describe it, the answers
# it gives, the first choice a careful engineer would defend, and alternatives that must rank
# in the top four. Every framework is the first choice of at least one.

SCENARIOS = [
    (
        "A JSON backend for a single-page app, data through an ORM, a team new to web frameworks",
        Answers("api", "none", {"orm", "new"}),
        "flask",
        {"fastapi", "bottle"},
    ),
    (
        "Serve a machine-learning model behind a typed API with interactive docs",
        Answers("api", "none", {"openapi"}),
        "fastapi",
        {"sanic", "flask"},
    ),
    (
        "A content site whose editors change pages in an admin, data in a relational database",
        Answers("web-app", "none", {"orm", "admin"}),
        "django",
        {"pyramid"},
    ),
    (
        "An intranet with users, forms and an admin, for a team new to web frameworks",
        Answers("web-app", "none", {"orm", "admin", "new"}),
        "django",
        {"flask"},
    ),
    (
        "A product that starts small and grows through add-ons other teams write and override",
        Answers("web-app", "none", {"addons"}),
        "pyramid",
        {"django"},
    ),
    (
        "A chat room: WebSockets, many idle connections, as few dependencies as possible",
        Answers("real-time", "none", {"websockets", "waiting", "few-deps"}),
        "tornado",
        {"sanic", "fastapi"},
    ),
    (
        "Notifications pushed over WebSockets, where request throughput also matters",
        Answers("real-time", "none", {"websockets", "throughput"}),
        "sanic",
        {"tornado", "fastapi"},
    ),
    (
        "A lightweight API where raw throughput matters, with a WebSocket feed",
        Answers("api", "none", {"throughput", "websockets"}),
        "sanic",
        {"fastapi"},
    ),
    (
        "An internal tool in one file, with nothing to install beyond Python",
        Answers("tool", "none", {"few-deps"}),
        "bottle",
        {"tornado"},
    ),
    (
        "A teaching example for students new to web frameworks",
        Answers("tool", "none", {"new"}),
        "bottle",
        {"flask", "cherrypy"},
    ),
    (
        "A control panel inside an existing threaded daemon",
        Answers("embedded", "none", set()),
        "cherrypy",
        {"tornado", "fastapi"},
    ),
    (
        "A status page inside a daemon, with as few dependencies as possible",
        Answers("embedded", "none", {"few-deps"}),
        "tornado",
        {"cherrypy"},
    ),
    (
        "A team that knows Django builds an API with typed validation and docs",
        Answers("api", "django", {"openapi"}),
        "fastapi",
        {"django"},
    ),
    (
        "A team that knows Flask builds a JSON API over a database",
        Answers("api", "flask", {"orm"}),
        "flask",
        {"fastapi"},
    ),
    (
        "A gateway that waits on other services for many requests at once, with typed validation",
        Answers("api", "none", {"waiting", "openapi"}),
        "fastapi",
        {"sanic"},
    ),
    (
        "A team that knows Tornado needs an API with OpenAPI docs",
        Answers("api", "tornado", {"openapi"}),
        "fastapi",
        {"tornado"},
    ),
]


@pytest.mark.parametrize(("story", "answers", "first", "alternatives"), SCENARIOS, ids=[s[0][:40] for s in SCENARIOS])
def test_scenario_first_choice_and_alternatives(story, answers, first, alternatives):
    ranking = top(answers, 4)
    assert ranking[0] == first, f"{story}: {ranking}"
    assert alternatives <= set(ranking[1:]), f"{story}: alternatives {alternatives} not in {ranking[1:]}"


def test_every_framework_is_the_first_choice_of_a_scenario():
    assert {first for _, _, first, _ in SCENARIOS} == set(FRAMEWORKS)
    assert len(SCENARIOS) >= 12


@pytest.fixture(scope="module")
def winners() -> dict[Answers, str]:
    return {answers: rank(answers)[0].key for answers in ALL_ANSWERS}


def test_no_single_question_decides_most_combinations(winners):
    """For each question: combinations won by the most common winner among those giving the same
    answer to it. Below half for every question, or one question would be the whole chooser."""

    def share_decided_by(answer_of) -> float:
        groups = collections.defaultdict(collections.Counter)
        for answers, winner in winners.items():
            groups[answer_of(answers)][winner] += 1
        return sum(c.most_common(1)[0][1] for c in groups.values()) / len(winners)

    shares = {"building": share_decided_by(lambda a: a.building), "team": share_decided_by(lambda a: a.team)}
    shares |= {need: share_decided_by(lambda a, n=need: n in a.needs) for need in QUESTIONS["needs"].values}
    assert max(shares.values()) < 0.5, shares


def test_every_framework_wins_some_combinations(winners):
    wins = collections.Counter(winners.values())
    assert set(wins) == set(FRAMEWORKS), wins
    assert len(ALL_ANSWERS) == 5 * 9 * 2**9


# ------------------------------------------------------------------------- the answers


def test_answers_reject_unknown_values_naming_the_allowed_ones():
    with pytest.raises(ValueError, match=r"building='blog'.*'api', 'web-app'"):
        Answers(building="blog")
    with pytest.raises(ValueError, match=r"team='rails'.*'none', 'flask'"):
        Answers(team="rails")
    with pytest.raises(ValueError, match=r"needs='speed'.*'orm'"):
        Answers(needs={"orm", "speed"})
    assert Answers(needs="orm").needs == frozenset({"orm"})


def test_answers_describe_the_project_in_question_order():
    text = Answers("api", "flask", {"new", "orm"}).describe()
    assert text == (
        "A JSON API or microservice; the team knows Flask; "
        "needs: A database through an ORM, with migrations / A team new to web frameworks"
    )


# ---------------------------------------------------------------------- the evidence


def chapter_headings(chapter: str) -> set[str]:
    notebook = nbformat.read(ROOT / "notebooks" / f"{chapter}.ipynb", as_version=4)
    return {
        slug(line.lstrip("#").strip())
        for c in notebook.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if re.match(r"#{1,4} ", line)
    }


def every_reason():
    for question, answers in scoring_table()["reasons"].items():
        for answer, per_framework in answers.items():
            for key, reasons in per_framework.items():
                for reason in reasons:
                    yield question, answer, key, reason


def test_every_contribution_says_what_kind_of_evidence_it_rests_on():
    kinds = collections.Counter()
    for question, answer, key, (_points, text, kind, source, href) in every_reason():
        where = f"{question}={answer} for {key}: {text!r}"
        assert text and source, where
        kinds[kind] += 1
        if kind == "demonstrated":
            chapter, anchor = re.fullmatch(r"\.\./notebooks/([\w-]+)\.html#([\w-]+)", href).groups()
            assert anchor in chapter_headings(chapter), f"{where}: no section {anchor!r} in {chapter}"
        elif kind == "documented":
            assert href.startswith("https://"), where
        elif kind == "measured":
            assert question in ("needs", "building"), where
        else:
            assert kind == "judgement" and not href and len(source.split()) >= 3, where
    assert set(kinds) == {"demonstrated", "measured", "documented", "judgement"}, kinds


def test_measured_figures_are_read_from_the_committed_benchmark_results():
    import json

    results = json.loads((ROOT / "notebooks" / "benchmark_results" / "results.json").read_text())
    rows = {
        r["framework"]: r
        for r in results["summary"]
        if r["tool"] == "python" and r["path"] == "/json" and r["concurrency"] == 64
    }
    held = {m["framework"]: m for m in results["many_connections"]}
    for key in FRAMEWORKS:
        reasons = {
            r.fact: r
            for r in rank(Answers("api", "none", {"throughput", "waiting"}))
            if r.key == key
            for r in r.reasons
        }
        rps = f"{rows[key]['rps']:,.0f} req/s"
        if "throughput" in reasons:
            assert rps in reasons["throughput"].text
        assert (f"{held[key]['ok']} of {held[key]['connections']}" in reasons["waiting"].text) == ("waiting" in reasons)


def test_throughput_points_follow_the_measurement_not_the_kind_of_framework():
    fastest = max(
        FRAMEWORKS,
        key=lambda k: dict(
            chooser_module._facts()[k].throughput[:1] and [("rps", chooser_module._facts()[k].throughput[0])]
        )["rps"],
    )
    wanted = rank(Answers("tool", "none", {"throughput"}))
    gained = {r.key: sum(x.points for x in r.reasons if x.fact == "throughput") for r in wanted}
    assert gained[fastest] == 2
    assert gained["cherrypy"] == 0, "the slowest measured framework gains nothing from throughput"


def test_changing_a_fact_changes_the_ranking(tmp_path, monkeypatch):
    text = chooser_module.TABLE_PATH.read_text()
    table = tmp_path / "frameworks.toml"
    table.write_text(text.replace('addons = "core"', 'addons = "none"'))
    project = Answers("web-app", "none", {"addons"})
    assert top(project) == ["pyramid"]
    monkeypatch.setattr(chooser_module, "TABLE_PATH", table)
    chooser_module._table.cache_clear()
    try:
        assert top(project) != ["pyramid"]
    finally:
        monkeypatch.undo()
        chooser_module._table.cache_clear()
    assert top(project) == ["pyramid"]


def test_a_fact_without_evidence_is_refused(tmp_path, monkeypatch):
    table = tmp_path / "frameworks.toml"
    text = chooser_module.TABLE_PATH.read_text()
    table.write_text(re.sub(r'\naddons = \["demonstrated", "pyramid".*', "", text))
    monkeypatch.setattr(chooser_module, "TABLE_PATH", table)
    chooser_module._table.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"choice.pyramid.evidence: missing \['addons'\]"):
            rank(Answers())
    finally:
        monkeypatch.undo()
        chooser_module._table.cache_clear()


# -------------------------------------------------------------------------- rendering


class Elements(HTMLParser):
    def __init__(self, html_text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html_text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_the_chooser_fragment_carries_controls_ranking_data_and_script():
    answers = PRESETS["async"]
    fragment = chooser_html(answers)
    inputs = [a for tag, a in Elements(fragment).found if tag == "input"]
    assert len(inputs) == sum(len(q.options) for q in QUESTIONS.values())
    checked = {(a["name"], a["value"]) for a in inputs if "checked" in a}
    assert checked == {("building", "real-time"), ("team", "none"), ("needs", "websockets"), ("needs", "waiting")}
    assert recommendations_html(answers) in fragment
    data = re.search(r'<script type="application/json" class="backendlab-chooser-data">(.*?)</script>', fragment, re.S)
    import json

    assert json.loads(data.group(1).replace("<\\/", "</")) == json.loads(json.dumps(scoring_table()))
    assert "backendlabChooser" in fragment and "http" not in fragment.split("<script>")[1].split("</script>")[0]


def test_the_ranking_names_the_best_fit_and_every_reason_with_its_evidence():
    answers = SCENARIOS[2][1]
    page = recommendations_html(answers)
    assert page.startswith('<p class="backendlab-chooser-best">Best fit: <strong>Django</strong> (8 points).')
    tied = recommendations_html(Answers("api"))
    assert tied.startswith('<p class="backendlab-chooser-best">Tied at 2 points: <strong>Flask</strong>, '
                           "<strong>FastAPI</strong>, <strong>Sanic</strong>, <strong>Bottle</strong> (listed")
    for rec in rank(answers):
        for reason in rec.reasons:
            assert html.escape(reason.text) in page and f"evidence-{reason.evidence.kind}" in page


def test_each_preset_table_shows_only_its_columns_and_the_full_table_shows_all():
    full = comparison_table_html()
    assert full.count('<th scope="col">') == len(ALL_COLUMNS) and full.count("<tr>") == len(FRAMEWORKS) + 2
    for preset, columns in PRESET_COLUMNS.items():
        assert preset in PRESETS
        table = comparison_table_html(columns)
        assert table.count('<th scope="col">') == len(columns) < len(ALL_COLUMNS)
    assert "Throughput" in comparison_table_html(PRESET_COLUMNS["async"])
    assert "Throughput" not in comparison_table_html(PRESET_COLUMNS["specialized"])


def test_comparison_table_markdown_has_a_row_per_framework():
    lines = comparison_table_markdown().splitlines()
    assert sum(line.startswith("| ") for line in lines) == len(FRAMEWORKS) + 2


def test_show_chooser_displays_the_chooser_then_the_table(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj.data))
    show_chooser(preset="full-stack")
    assert len(shown) == 2 and 'class="backendlab-chooser"' in shown[0]
    assert shown[1] == comparison_table_html(PRESET_COLUMNS["full-stack"])
    with pytest.raises(ValueError, match="lightweight"):
        show_chooser(preset="nope")
