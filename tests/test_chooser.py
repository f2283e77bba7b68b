"""Tests of the framework profile table and of the chooser built on it."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import itertools
import tomllib
from html.parser import HTMLParser

import ipywidgets
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from backendlab import chooser as chooser_module
from backendlab.chooser import (
    PRESETS,
    QUESTIONS,
    Answers,
    Chooser,
    chooser,
    comparison_table_html,
    comparison_table_markdown,
    rank,
    recommendations_html,
    show_chooser,
)
from backendlab.profiles import (
    FACTS,
    SECTIONS,
    TABLE_PATH,
    FrameworkProfile,
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
ALL_ANSWERS = [Answers(*values) for values in itertools.product(*(q.values for q in QUESTIONS.values()))]


def top(answers: Answers, n: int = 1, profiles=None) -> list[str]:
    return [rec.key for rec in rank(answers, profiles)[:n]]


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
        assert profile.chapter_for("performance_class") == "benchmarks"
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


# ----------------------------------------------------------------------------- answers


def test_answers_reject_unknown_values_naming_the_allowed_ones():
    with pytest.raises(ValueError, match=r"building='blog'.*'api', 'full-stack'"):
        Answers(building="blog")
    with pytest.raises(ValueError, match="'normal', 'critical'"):
        Answers(performance="fast")
    with pytest.raises(TypeError):
        rank({"building": "api"})


def test_answers_fields_match_the_questions():
    assert [f.name for f in dataclasses.fields(Answers)] == list(QUESTIONS)


# ------------------------------------------------------------------------- ranking


def test_rank_covers_every_framework_with_consistent_scores():
    for answers in ALL_ANSWERS:
        ranking = rank(answers)
        assert sorted(r.key for r in ranking) == sorted(FRAMEWORKS)
        assert [r.rank for r in ranking] == list(range(1, 9))
        assert [r.score for r in ranking] == sorted((r.score for r in ranking), reverse=True)
        for rec in ranking:
            assert rec.score == sum(reason.points for reason in rec.reasons)
            assert all(reason.points != 0 for reason in rec.reasons)


def test_rank_is_deterministic_and_ties_keep_the_article_order():
    for answers in ALL_ANSWERS:
        assert rank(answers) == rank(answers)
    profiles = load_profiles()
    clones = {key: dataclasses.replace(profiles["flask"], key=key) for key in profiles}
    assert len({r.score for r in rank(Answers(), clones)}) == 1  # all tied
    assert top(Answers(), 8, clones) == list(FRAMEWORKS)
    reversed_table = dict(reversed(list(clones.items())))
    assert top(Answers(), 8, reversed_table) == list(reversed(FRAMEWORKS))


def test_api_points_to_flask_or_fastapi():
    for answers in ALL_ANSWERS:
        if answers.building == "api":
            assert top(answers)[0] in ("flask", "fastapi"), answers
    for scale in ("small", "growing"):
        assert "flask" in top(Answers("api", scale, "new"), 2)
    assert top(Answers("api", "small", "new")) == ["flask"]


def test_full_stack_points_to_django_then_pyramid():
    for answers in ALL_ANSWERS:
        if answers.building == "full-stack":
            assert top(answers)[0] == "django", answers
            if answers.performance == "normal":
                assert top(answers, 2) == ["django", "pyramid"], answers


def test_real_time_points_to_tornado_or_sanic():
    for answers in ALL_ANSWERS:
        if answers.building == "real-time":
            assert top(answers)[0] in ("tornado", "sanic"), answers
    assert set(top(Answers("real-time", "small", "some", "critical"), 2)) == {"tornado", "sanic"}


def test_small_tool_points_to_bottle():
    assert top(Answers("small-tool", "small", "some"), 2) == ["bottle", "cherrypy"]
    assert top(Answers("small-tool", "small", "new")) == ["bottle"]


def scale_points(answers: Answers) -> dict[str, int]:
    return {rec.key: sum(r.points for r in rec.reasons if r.fact == "project_sizes") for rec in rank(answers)}


def test_growing_scale_favours_pyramid_and_fastapi():
    points = scale_points(Answers(scale="growing"))
    best = max(points.values())
    assert best > 0 and points["pyramid"] == points["fastapi"] == best
    assert points["flask"] < best and points["bottle"] < 0
    assert scale_points(Answers(scale="large"))["bottle"] < 0
    assert scale_points(Answers(scale="small"))["bottle"] > 0


def test_new_developers_are_steered_to_flask_and_django():
    for building in QUESTIONS["building"].values:
        new = {r.key: r.score for r in rank(Answers(building, experience="new"))}
        expert = {r.key: r.score for r in rank(Answers(building, experience="experienced"))}
        gains = {k: new[k] - expert[k] for k in new}
        assert gains["flask"] == max(gains.values())
        assert gains["django"] >= 2
        assert gains["pyramid"] < 0  # steep learning curve
    django = next(r for r in rank(Answers(experience="new")) if r.key == "django")
    assert any(r.fact == "community" and r.points > 0 for r in django.reasons)


def test_critical_performance_prefers_async_frameworks():
    profiles = load_profiles()
    for answers in ALL_ANSWERS:
        if answers.performance != "critical" or answers.building not in ("api", "real-time"):
            continue
        assert profiles[top(answers)[0]].async_support == "native", answers
    assert top(Answers("api", performance="critical")) == ["fastapi"]
    normal = {r.key: r.score for r in rank(Answers("api"))}
    critical = {r.key: r.score for r in rank(Answers("api", performance="critical"))}
    for key, profile in profiles.items():
        delta = critical[key] - normal[key]
        assert (delta > 0) == (profile.async_support in ("native", "partial")), key


def test_reasons_mention_the_facts_they_come_from():
    profiles = load_profiles()
    tornado = rank(Answers("real-time", performance="critical"))[0]
    assert tornado.key == "tornado"
    lines = " / ".join(tornado.reason_lines)
    assert "+4 WebSockets: built in" in lines
    assert "native" in lines
    django = next(r for r in rank(Answers("full-stack")) if r.key == "django")
    batteries = next(reason for reason in django.reasons if reason.fact == "batteries")
    assert batteries.points == len(profiles["django"].batteries)
    assert "ORM" in batteries.text and "admin site" in batteries.text
    bottle = next(r for r in rank(Answers("small-tool")) if r.key == "bottle")
    assert "+2 no dependencies beyond Python" in bottle.reason_lines
    sanic = next(r for r in rank(Answers("small-tool")) if r.key == "sanic")
    assert "-1 11 runtime dependencies to install" in sanic.reason_lines
    for answers in ALL_ANSWERS:
        for rec in rank(answers):
            for reason in rec.reasons:
                assert reason.fact in FACTS
                assert str(reason).startswith(("+", "-"))


def test_changing_the_table_changes_the_ranking():
    profiles = load_profiles()
    answers = Answers("real-time", "small", "some", "critical")
    assert top(answers)[0] in ("tornado", "sanic")
    no_ws = {
        k: dataclasses.replace(p, websockets="none") if k in ("tornado", "sanic") else p for k, p in profiles.items()
    }
    assert top(answers, profiles=no_ws) == ["fastapi"]
    admin_flask = dict(profiles)
    admin_flask["flask"] = dataclasses.replace(
        profiles["flask"],
        focus="full-stack",
        batteries=("orm", "migrations", "admin", "auth", "templating", "forms", "sessions", "i18n", "csrf"),
        project_sizes=("small", "medium", "large"),
        project_template="flask-startproject",
    )
    assert top(Answers("full-stack")) == ["django"]
    assert top(Answers("full-stack"), profiles=admin_flask) == ["flask"]


def test_the_default_table_is_used_when_the_module_table_is_patched(monkeypatch):
    profiles = load_profiles()
    patched = dict(profiles)
    patched["bottle"] = dataclasses.replace(profiles["bottle"], api_docs=True, community="large")
    monkeypatch.setattr(chooser_module, "load_profiles", lambda: dict(patched))
    answers = Answers("api", "small", "new")
    assert top(answers) == ["bottle"]
    assert "Best fit: <strong>Bottle</strong>" in Chooser(answers).result.value
    monkeypatch.undo()
    assert top(answers) == ["flask"]


def test_presets_cover_each_section_and_rank_its_frameworks_first():
    assert list(PRESETS) == list(SECTIONS)
    for section, answers in PRESETS.items():
        assert isinstance(answers, Answers)
        assert set(top(answers, 2)) == set(frameworks_in(section)), section


# ------------------------------------------------------------------------ rendering


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._in_body and self.rows and self.tags[-1] == "td":
            self.rows[-1].append(data)


def test_comparison_table_lists_all_frameworks_as_plain_html():
    table = comparison_table_html()
    assert table.startswith('<table class="backendlab-comparison">')
    assert "<script" not in table and "id=" not in table
    parser = _TableParser()
    parser.feed(table)
    assert [row[0] for row in parser.rows] == [p.name for p in load_profiles().values()]
    bottle = next(row for row in parser.rows if row[0] == "Bottle")
    assert "0" in bottle and "WSGI" in bottle
    assert "benchmark chapter" in table
    assert table == comparison_table_html()


def test_comparison_table_escapes_values():
    profiles = load_profiles()
    evil = dict(profiles)
    evil["flask"] = dataclasses.replace(profiles["flask"], name="<script>alert(1)</script>", production_server="A & B")
    table = comparison_table_html(evil)
    assert "<script>" not in table
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in table
    assert "A &amp; B" in table
    assert "&lt;script&gt;" in recommendations_html(Answers(), evil)


def test_comparison_table_markdown_has_a_row_per_framework():
    lines = comparison_table_markdown().splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [p.name for p in load_profiles().values()]


def test_recommendation_html_is_deterministic_and_ranked():
    answers = PRESETS["async"]
    text = recommendations_html(answers)
    assert text == recommendations_html(answers)
    assert text.index("Tornado") < text.index("Sanic") < text.index("Bottle")
    assert "<script" not in text and " id=" not in text


# -------------------------------------------------------------------------- widget


def test_chooser_starts_from_the_preset_and_shows_its_ranking():
    widget = chooser("full-stack")
    assert isinstance(widget, ipywidgets.Widget)
    assert set(widget.controls) == set(QUESTIONS)
    assert widget.answers == PRESETS["full-stack"]
    assert widget.result.value == recommendations_html(PRESETS["full-stack"])
    assert "Best fit: <strong>Django</strong>" in widget.result.value
    assert widget.result in widget.children
    assert chooser().answers == Answers()
    with pytest.raises(ValueError, match="lightweight"):
        chooser("huge")


def test_chooser_updates_its_result_when_a_control_changes():
    widget = chooser("full-stack")
    before = widget.result.value
    widget.controls["building"].value = "real-time"
    assert widget.result.value != before
    assert widget.answers.building == "real-time"
    assert widget.result.value == recommendations_html(widget.answers)
    widget.controls["building"].value = "full-stack"
    assert widget.result.value == before


def test_chooser_controls_offer_exactly_the_question_values():
    widget = chooser()
    for name, control in widget.controls.items():
        assert control.options == tuple((text, value) for value, text in QUESTIONS[name].options)
        assert control.description == QUESTIONS[name].prompt


def test_show_chooser_displays_the_widget_then_the_static_table(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    show_chooser("async")
    assert len(shown) == 2
    assert isinstance(shown[0], Chooser) and shown[0].answers == PRESETS["async"]
    assert shown[1].data == comparison_table_html()


def test_profile_dataclass_is_hashable():
    assert len({p for p in load_profiles().values()}) == len(FRAMEWORKS)
    assert isinstance(next(iter(load_profiles().values())), FrameworkProfile)
