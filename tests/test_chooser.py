"""Tests of the framework profile table and of the chooser built on it."""

from __future__ import annotations

import collections
import dataclasses
import html
import importlib.metadata
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from backendlab import chooser as chooser_module
from backendlab import profiles as profiles_module
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


def forget_read_tables() -> None:
    chooser_module._table.cache_clear()
    chooser_module._load_facts.cache_clear()


@pytest.fixture(autouse=True)
def fresh_tables():
    """Each test reads the table and the benchmark results itself: a ranking cached by an earlier
    test (or by the process mutation testing forks from) must not answer for it, nor its own for later ones."""
    forget_read_tables()
    yield
    forget_read_tables()


def with_value(text: str, table: str, name: str, value: str) -> str:
    """The TOML text with ``name = value`` set in the table ``[table]`` (its first occurrence there)."""
    start = text.index(f"[{table}]\n")
    changed, count = re.subn(rf"\n{re.escape(name)} = [^\n]*", lambda _: f"\n{name} = {value}", text[start:], count=1)
    assert count == 1, (table, name)
    return text[:start] + changed


@pytest.fixture
def edited(tmp_path, monkeypatch):
    """Make the chooser read an edited copy of frameworks.toml (``table``: text -> text) and of the
    committed benchmark results (``results``: changes the parsed JSON in place)."""

    calls = iter(range(1000))

    def use(table=lambda text: text, results=lambda data: None) -> None:
        folder = tmp_path / str(next(calls))  # a new path each time: tables are cached by path
        folder.mkdir()
        table_path, results_path = folder / "frameworks.toml", folder / "results.json"
        table_path.write_text(table(TABLE_PATH.read_text()))
        data = json.loads(chooser_module.RESULTS_PATH.read_text())
        results(data)
        results_path.write_text(json.dumps(data))
        monkeypatch.setattr(profiles_module, "TABLE_PATH", table_path)
        monkeypatch.setattr(chooser_module, "TABLE_PATH", table_path)
        monkeypatch.setattr(chooser_module, "RESULTS_PATH", results_path)
        forget_read_tables()

    return use


def points(question: str, answer: str) -> dict[str, int]:
    """Each framework's points for one answer, as the exported scoring table gives them to the page."""
    per_framework = scoring_table()["reasons"][question][answer]
    return {key: sum(reason[0] for reason in reasons) for key, reasons in per_framework.items()}


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


# ------------------------------------------------------------------------- the policy
# The points each answer gives each framework, as the exported scoring table (and so the page) shows
# them: the weights of the published policy (the table in backendlab.chooser's docstring, quoted on
# each row) applied to the facts of frameworks.toml and of the committed benchmark results. A change
# of weight or fact changes a row here, on purpose: every chapter embeds the chooser's output.

POLICY = {
    #                             flask fastapi django pyramid tornado sanic bottle cherrypy
    ("building", "api"):         (2, 2, 0, 0, 1, 2, 2, 1),  # focus: APIs +2, APIs and pages +1
    ("building", "web-app"):     (1, 0, 3, 2, 2, 0, 1, 1),  # focus: web apps +2, both +1; templates +1
    ("building", "real-time"):   (0, 2, 0, 0, 3, 3, 0, 0),  # WebSockets own server +2, routes +1; native +1
    ("building", "tool"):        (1, 0, 0, 0, 1, 0, 3, 1),  # one file +1; gentle +1; no dependencies +1
    ("building", "embedded"):    (1, 2, 1, 1, 2, 2, 1, 3),  # threaded +3, event loop +2, WSGI mount +1
    ("needs", "orm"):            (1, 1, 2, 1, 0, 0, 0, 0),  # built in +2, extension +1
    ("needs", "admin"):          (0, 0, 3, 0, 0, 0, 0, 0),  # built in +3
    ("needs", "openapi"):        (0, 2, 0, 0, 0, 1, 0, 0),  # built in +2, add-on +1
    ("needs", "websockets"):     (-1, 2, -1, -1, 3, 3, -1, -1),  # built in +3, routes only +2, none -1
    ("needs", "addons"):         (1, 0, 1, 3, 0, 0, 0, 0),  # in the core +3, by convention +1
    ("needs", "few-deps"):       (0, 0, 1, -1, 2, -1, 2, 0),  # 0 deps +2, 1-3 +1, 9 or more -1
    ("needs", "waiting"):        (-1, 2, -1, -1, 2, 2, -1, -1),  # >= 99 % answered +2, < 50 % -1
    ("needs", "throughput"):     (0, 1, 0, 0, 0, 2, 1, 0),  # >= 80 % of the fastest +2, >= 40 % +1
    ("needs", "new"):            (1, 0, 0, -1, 0, 0, 1, 1),  # gentle +1, steep -1
}


@pytest.mark.parametrize(("question", "answer"), list(POLICY), ids=[f"{q}={a}" for q, a in POLICY])
def test_each_answer_gives_the_published_points(question, answer):
    assert points(question, answer) == dict(zip(FRAMEWORKS, POLICY[question, answer], strict=True))


def test_every_answer_has_a_published_row():
    building_and_needs = {(q, a) for q in ("building", "needs") for a in QUESTIONS[q].values}
    assert set(POLICY) == building_and_needs


def test_the_framework_the_team_knows_gains_two_points_and_no_other_gains_any():
    for key in FRAMEWORKS:
        assert points("team", key) == {k: 2 if k == key else 0 for k in FRAMEWORKS}
    assert set(points("team", "none").values()) == {0}


@pytest.mark.parametrize("preset", list(PRESETS))
def test_a_ranking_adds_up_the_exported_rows_and_breaks_ties_by_article_order(preset):
    answers = PRESETS[preset]
    expected = {key: sum(points(q, a)[key] for q, a in answers.chosen()) for key in FRAMEWORKS}
    ranking = rank(answers)
    assert [(rec.key, rec.score) for rec in ranking] == sorted(
        expected.items(), key=lambda item: (-item[1], FRAMEWORKS.index(item[0]))
    )
    assert [rec.rank for rec in ranking] == list(range(1, len(FRAMEWORKS) + 1))
    assert [rec.chapter for rec in ranking] == [rec.key for rec in ranking]  # each framework's own chapter


def test_each_reason_names_the_fact_it_rests_on():
    facts = {(rec.key, r.fact) for rec in rank(Answers("api", "flask", {"throughput", "waiting"})) for r in rec.reasons}
    assert {("flask", "team"), ("flask", "focus"), ("sanic", "throughput"), ("sanic", "waiting")} <= facts
    assert {fact for _, fact in facts} == {"team", "focus", "throughput", "waiting"}


def test_rank_refuses_anything_but_answers():
    with pytest.raises(TypeError) as refused:
        rank("api")
    assert str(refused.value) == "answers must be an Answers instance, got str"


# The thresholds of the published policy, on edited copies of the facts: the real facts do not sit
# on every boundary.


@pytest.mark.parametrize(("count", "few_deps", "tool"), [(0, 2, 3), (1, 1, 2), (3, 1, 2), (4, 0, 2), (8, 0, 2),
                                                          (9, -1, 2), (12, -1, 2)])
def test_dependency_points_change_at_the_published_counts(edited, count, few_deps, tool):
    edited(table=lambda text: with_value(text, "frameworks.bottle", "dependencies", str(count)))
    assert points("needs", "few-deps")["bottle"] == few_deps
    assert points("building", "tool")["bottle"] == tool  # one file +1, gentle +1, no dependencies +1
    reasons = [r for rec in rank(Answers("tool", "none", {"few-deps"})) if rec.key == "bottle" for r in rec.reasons]
    texts = {"no dependencies beyond Python"} if count == 0 else set()
    texts |= {f"{count} required dependencies"} if few_deps else set()
    assert {r.text for r in reasons if r.fact == "dependencies"} == texts  # a fact worth 0 gives no reason
    assert {str(r.evidence) for r in reasons if r.fact == "dependencies"} <= {
        "measured: required distributions of bottle in its installed metadata"}


def held(answered: int):
    def edit(data: dict) -> None:
        (bottle,) = [m for m in data["many_connections"] if m["framework"] == "bottle"]
        bottle.update(ok=answered, connections=1000, timeout_s=10.0)
    return edit


@pytest.mark.parametrize(("answered", "expected"), [(1000, 2), (990, 2), (989, 0), (500, 0), (499, -1), (0, -1)])
def test_waiting_points_change_at_the_published_shares(edited, answered, expected):
    edited(results=held(answered))
    assert points("needs", "waiting")["bottle"] == expected
    if expected:
        text = scoring_table()["reasons"]["needs"]["waiting"]["bottle"][0][1]
        assert text == f"{answered} of 1000 requests that each wait 1 s answered within 10 s"


def measured(bottle_rps: float):
    """The /json rows: the fastest framework (CherryPy here) at 1000 req/s, the others at 100 except
    Bottle; plus rows of other tools, paths and concurrencies that must not count."""

    def edit(data: dict) -> None:
        rows = [r for r in data["summary"] if r["tool"] == "python" and r["path"] == "/json" and r["concurrency"] == 64]
        for row in rows:
            rps = {"cherrypy": 1000.0, "bottle": bottle_rps, "bare": 50_000.0}.get(row["framework"], 100.0)
            row.update(rps=rps, rps_min=rps - 10, rps_max=rps + 10)
        (bottle,) = [r for r in rows if r["framework"] == "bottle"]
        for other in ({"tool": "wrk"}, {"path": "/"}, {"concurrency": 1}):
            data["summary"].append(bottle | other | {"rps": 90_000.0})
    return edit


@pytest.mark.parametrize(("rps", "expected"), [(1000, 2), (800, 2), (799, 1), (400, 1), (399, 0)])
def test_throughput_points_change_at_the_published_shares_of_the_fastest(edited, rps, expected):
    edited(results=measured(rps))
    gained = points("needs", "throughput")
    assert gained["bottle"] == expected and gained["cherrypy"] == 2 and gained["flask"] == 0
    if expected:
        text = scoring_table()["reasons"]["needs"]["throughput"]["bottle"][0][1]
        assert text == f"{rps:,} req/s on GET /json ({rps - 10:,}\u2013{rps + 10:,}), {rps / 1000:.0%} of the fastest"


def test_a_framework_without_a_measurement_gets_no_measured_points(edited):
    def unmeasured(data: dict) -> None:
        data["summary"] = [r for r in data["summary"] if r["framework"] != "bottle"]
        data["many_connections"] = [m for m in data["many_connections"] if m["framework"] != "bottle"]

    edited(results=unmeasured)
    for need in ("waiting", "throughput"):
        assert scoring_table()["reasons"]["needs"][need]["bottle"] == []
    assert "<td>not measured</td>" in comparison_table_html(["framework", "throughput"])


def test_the_policy_applies_to_fact_values_no_framework_has_today(edited):
    def table(text: str) -> str:
        text = with_value(text, "frameworks.bottle", "focus", '"both"')
        text = with_value(text, "frameworks.bottle", "learning_curve", '"steep"')
        text = with_value(text, "frameworks.bottle", "websockets", '"routes-only"')
        text = with_value(text, "frameworks.bottle", "async_support", '"native"')
        text = with_value(text, "frameworks.bottle", "batteries", '["admin"]')
        choices = {"orm": "built-in", "openapi": "add-on", "addons": "core", "embedding": "event-loop"}
        for fact, value in choices.items():
            text = with_value(text, "choice.bottle", fact, f'"{value}"')
        return text

    edited(table=lambda text: with_value(text, "choice.bottle", "embedding", '"none"'))
    assert scoring_table()["reasons"]["building"]["embedded"]["bottle"] == []
    edited(table=table)
    gained = {(q, a): points(q, a)["bottle"] for q, a in POLICY}
    assert gained == {
        ("building", "api"): 1, ("building", "web-app"): 2, ("building", "real-time"): 2, ("building", "tool"): 2,
        ("building", "embedded"): 2, ("needs", "orm"): 2, ("needs", "admin"): 3, ("needs", "openapi"): 1,
        ("needs", "websockets"): 2, ("needs", "addons"): 3, ("needs", "few-deps"): 2, ("needs", "waiting"): -1,
        ("needs", "throughput"): 1, ("needs", "new"): -1,
    }


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


def test_answers_describe_a_project_without_team_or_needs_by_its_kind_alone():
    assert Answers("tool").describe() == "A small internal tool or a teaching example"


def test_answers_from_a_form_read_every_checked_input():
    checked = [("needs", "new"), ("building", "tool"), ("team", "bottle"), ("needs", "orm")]
    assert Answers.from_form(iter(checked)) == Answers("tool", "bottle", {"orm", "new"})
    assert Answers.from_form([("building", "api"), ("team", "none")]) == Answers()


def test_all_answers_lists_every_combination_once():
    combinations = list(all_answers())
    assert len(combinations) == len(set(combinations)) == 5 * 9 * 2**9
    assert {a.building for a in combinations} == set(QUESTIONS["building"].values)
    assert {a.team for a in combinations} == set(QUESTIONS["team"].values)
    assert Answers("embedded", "cherrypy", set(QUESTIONS["needs"].values)) in combinations


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


def test_each_kind_of_evidence_links_where_a_reader_checks_it():
    reasons = {(rec.key, r.fact): r.evidence for rec in rank(Answers("api", "none", {"orm"})) for r in rec.reasons}
    assert reasons["flask", "orm"] == chooser_module.Evidence(
        "demonstrated", "flask chapter, section \u201cExtensions: a database with Flask-SQLAlchemy\u201d",
        "../notebooks/flask.html#extensions-a-database-with-flask-sqlalchemy")
    assert reasons["fastapi", "orm"] == chooser_module.Evidence(
        "documented", "https://fastapi.tiangolo.com/tutorial/sql-databases/ (SQLModel, a separate package)",
        "https://fastapi.tiangolo.com/tutorial/sql-databases/")
    assert reasons["flask", "focus"] == chooser_module.Evidence(
        "judgement", "the article's section 1 (APIs and microservices) and its best-for line: SPA backends, prototypes")
    assert str(reasons["fastapi", "orm"]).startswith("documented: https://fastapi")


FORMS = '["demonstrated", chapter, heading], ["documented", url] or ["judgement", whose]'
BAD_EVIDENCE = [
    ('["measured", "by hand"]', f"expected {FORMS}, got ['measured', 'by hand']"),
    ("[]", f"expected {FORMS}, got []"),
    ('"bottle"', f"expected {FORMS}, got 'bottle'"),
    ('["demonstrated", "bottle"]', "demonstrated needs a chapter and a heading"),
    ('["documented", ""]', "documented needs one source"),
    ('["judgement", "the authors", "twice"]', "judgement needs one source"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_EVIDENCE, ids=[e for e, _ in BAD_EVIDENCE])
def test_malformed_evidence_is_refused_naming_the_fact(edited, entry, message):
    edited(table=lambda text: with_value(text, "choice.bottle.evidence", "single_file", entry))
    with pytest.raises(ValueError) as refused:
        rank(Answers())
    assert str(refused.value) == f"frameworks.toml: choice.bottle.evidence.single_file: {message}"


def test_a_choice_fact_outside_its_values_or_a_missing_choice_table_is_refused(edited):
    edited(table=lambda text: with_value(text, "choice.bottle", "orm", '"maybe"'))
    with pytest.raises(ValueError) as refused:
        rank(Answers())
    assert str(refused.value) == (
        "frameworks.toml: choice.bottle.orm: 'maybe' is not one of ('built-in', 'extension', 'none')")
    edited(table=lambda text: text.replace("[choice.bottle", "[choice.bottle2"))
    with pytest.raises(ValueError) as refused:
        rank(Answers())
    assert str(refused.value) == "frameworks.toml: [choice.bottle] is missing"


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
    with pytest.raises(ValueError) as refused:
        show_chooser(preset="nope")
    assert str(refused.value) == (
        "unknown preset 'nope'; presets are: lightweight, full-stack, async, specialized, performance")


def test_comparison_table_markdown_escapes_pipes_in_cells(edited):
    edited(table=lambda text: with_value(text, "frameworks.bottle", "production_server", '"Waitress | Gunicorn"'))
    lines = comparison_table_markdown(["framework", "server"]).splitlines()
    assert lines[:2] == ["| Framework | Production server |", "| --- | --- |"]
    assert "| Bottle | Waitress \\| Gunicorn |" in lines
    assert lines[-1].startswith("Dependencies: required") and "\\* Throughput" in lines[-1]


def shown_by_chapters():
    """(notebook, preset, the two HTML outputs committed under its show_chooser cell)."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            call = re.search(r'show_chooser\((?:preset="([\w-]+)")?\)', cell.source)
            if call and cell.cell_type == "code":
                html_outputs = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
                yield path.name, call.group(1), html_outputs


def test_every_chapter_shows_the_chooser_and_table_the_code_produces_now(monkeypatch):
    """The committed chapters embed the chooser (with the whole scoring table) and the comparison table:
    any change to a weight, a text or the markup must come with re-executed chapters."""
    chapters = list(shown_by_chapters())
    assert {preset for _, preset, _ in chapters} == {None, *PRESETS}
    for notebook, preset, committed in chapters:
        shown = []
        monkeypatch.setattr("IPython.display.display", lambda obj, shown=shown: shown.append(obj.data))
        show_chooser(preset)
        assert committed == shown, f"{notebook}: re-execute it (python -m backendlab.notebook_runner --save)"


def test_the_exported_table_cannot_end_the_script_that_carries_it(edited):
    source = '["judgement", "the authors </script><script>alert(1)</script>"]'
    edited(table=lambda text: with_value(text, "choice.bottle.evidence", "focus", source))
    fragment = chooser_html()
    data = re.search(r'class="backendlab-chooser-data">(.*?)</script>', fragment, re.S).group(1)
    assert "</" not in data and "the authors <\\/script><script>alert(1)<\\/script>" in data
    assert "the authors &lt;/script&gt;" in fragment  # the ranking shown before any script runs
