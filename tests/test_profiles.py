"""The framework table's validator: a bad entry in ``frameworks.toml`` fails at load time with a message
naming the entry, and a good table comes back as profiles in the article's order."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from backendlab.profiles import (
    ASYNC_SUPPORT,
    BATTERIES,
    FACTS,
    KINDS,
    TABLE_PATH,
    frameworks_in,
    label,
    load_profiles,
    parse_table,
)


class _Absent:
    """A change that deletes the field (its repr is stable, so xdist workers collect the same test ids)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


def table(**flask_changes: object) -> dict:
    """A fresh copy of the shipped table, with Flask's entry changed (ABSENT deletes a field)."""
    with open(TABLE_PATH, "rb") as file:
        data = tomllib.load(file)
    for field, value in flask_changes.items():
        if value is ABSENT:
            del data["frameworks"]["flask"][field]
        else:
            data["frameworks"]["flask"][field] = value
    return data


def refusal(data: dict) -> str:
    with pytest.raises(ValueError) as refused:
        parse_table(data)
    return str(refused.value)


def choices(values) -> str:
    return ", ".join(repr(v) for v in values)


FACT_NAMES = choices(FACTS)
WHERE = "frameworks.toml: frameworks.flask"

BAD_FIELDS = [
    ({"name": ""}, f"{WHERE}.name: expected a non-empty string, got ''"),
    ({"version": 3.1}, f"{WHERE}.version: expected a non-empty string, got 3.1"),
    ({"section": "nope"}, f"{WHERE}.section: 'nope' is not one of 'lightweight', 'full-stack', 'async', 'specialized'"),
    ({"project_template": 0}, f"{WHERE}.project_template: expected a string, got 0"),
    ({"single_file": "yes"}, f"{WHERE}.single_file: expected true or false, got 'yes'"),
    ({"dependencies": -1}, f"{WHERE}.dependencies: expected a count >= 0, got -1"),
    ({"dependencies": True}, f"{WHERE}.dependencies: expected a count >= 0, got True"),
    ({"dependencies": "6"}, f"{WHERE}.dependencies: expected a count >= 0, got '6'"),
    ({"kind": "mega"}, f"{WHERE}.kind: 'mega' is not one of {choices(KINDS)}"),
    ({"async_support": "sometimes"}, f"{WHERE}.async_support: 'sometimes' is not one of {choices(ASYNC_SUPPORT)}"),
    ({"batteries": ["sessions", "jetpack"]}, f"{WHERE}.batteries: 'jetpack' is not one of {choices(BATTERIES)}"),
    ({"interfaces": "WSGI"}, f"{WHERE}.interfaces: expected a list of strings, got 'WSGI'"),
    ({"interfaces": ["WSGI", 1]}, f"{WHERE}.interfaces: expected a list of strings, got ['WSGI', 1]"),
    ({"interfaces": ["WSGI", "WSGI"]}, f"{WHERE}.interfaces: duplicate entries in ['WSGI', 'WSGI']"),
    ({"interfaces": ["CGI"]}, f"{WHERE}.interfaces: 'CGI' is not one of 'WSGI', 'ASGI', 'own server'"),
    ({"interfaces": []}, f"{WHERE}: interfaces and project_sizes need at least one value"),
    ({"project_sizes": []}, f"{WHERE}: interfaces and project_sizes need at least one value"),
    ({"http_versions": "1.1"}, f"{WHERE}.http_versions: expected a list of strings, got '1.1'"),
    ({"notes": "fast"}, f"{WHERE}.notes: expected a table, got 'fast'"),
    ({"notes": {"colour": "red"}}, f"{WHERE}.notes.colour: 'colour' is not one of {FACT_NAMES}"),
    ({"notes": {"kind": ""}}, f"{WHERE}.notes.kind: expected a non-empty string"),
    ({"notes": {"kind": 3}}, f"{WHERE}.notes.kind: expected a non-empty string"),
    ({"shown_in": [["kind", "flask"]]}, f"{WHERE}.shown_in: expected a table, got [['kind', 'flask']]"),
    ({"shown_in": {"colour": "flask"}}, f"{WHERE}.shown_in.colour: 'colour' is not one of {FACT_NAMES}"),
    ({"shown_in": {"kind": ""}}, f"{WHERE}.shown_in.kind: expected a non-empty string"),
    ({"colour": "red", "mood": 1}, f"{WHERE}: unknown fields ['colour', 'mood']"),
    ({"kind": ABSENT, "dependencies": ABSENT}, f"{WHERE}: missing fields ['dependencies', 'kind']"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FIELDS, ids=[f"{m.split(': ')[1]} {c}" for c, m in BAD_FIELDS])
def test_a_bad_framework_entry_is_refused_naming_the_field(changes, message):
    assert refusal(table(**changes)) == message


def test_a_bad_table_layout_is_refused_naming_the_table():
    data = table()
    del data["sections"]
    assert refusal(data) == "frameworks.toml: sections: expected a table of section key = title"
    assert refusal(table() | {"sections": {}}) == "frameworks.toml: sections: expected a table of section key = title"
    assert refusal(table() | {"frameworks": {}}) == "frameworks.toml: frameworks: expected a table of frameworks"
    assert refusal(table() | {"frameworks": ["flask"]}) == "frameworks.toml: frameworks: expected a table of frameworks"
    data = table()
    data["sections"]["hobby"] = "Frameworks for fun"
    assert refusal(data) == "frameworks.toml: sections: no framework in section(s) ['hobby']"


def test_parsed_profiles_carry_the_facts_as_written():
    data = table()
    _, profiles = parse_table(data)
    for key, raw in data["frameworks"].items():
        profile = profiles[key]
        for field, value in raw.items():
            parsed = getattr(profile, field)
            if isinstance(value, list):
                assert sorted(parsed) == sorted(value), (key, field)
            elif isinstance(value, dict):
                assert dict(parsed) == value, (key, field)
            else:
                assert parsed == value and type(parsed) is type(value), (key, field)


def test_profiles_come_in_section_order_then_file_order_with_lists_in_canonical_order():
    data = table(batteries=["sessions", "templating"])
    data["sections"] = dict(reversed(data["sections"].items()))
    sections, profiles = parse_table(data)
    assert list(sections) == ["specialized", "async", "full-stack", "lightweight"]
    assert list(profiles) == ["bottle", "cherrypy", "tornado", "sanic", "django", "pyramid", "flask", "fastapi"]
    assert profiles["flask"].batteries == ("templating", "sessions") == tuple(b for b in BATTERIES if b in
                                                                              ("sessions", "templating"))


def test_notes_and_shown_in_are_optional_and_shown_in_overrides_the_chapter_per_fact():
    _, profiles = parse_table(table(notes=ABSENT))
    assert profiles["flask"].notes == () and profiles["flask"].note("async_support") == ""
    _, profiles = parse_table(table(shown_in={"websockets": "introduction", "kind": "choosing"}))
    flask = profiles["flask"]
    assert flask.shown_in == (("kind", "choosing"), ("websockets", "introduction"))
    assert flask.chapter_for("websockets") == "introduction"
    assert flask.notebook_for("kind") == "notebooks/choosing.ipynb"
    assert flask.chapter_for("batteries") == "flask"


def test_an_unknown_fact_is_refused_listing_the_facts():
    with pytest.raises(ValueError) as refused:
        load_profiles()["flask"].chapter_for("colour")
    assert str(refused.value) == f"unknown fact 'colour'; facts are: {', '.join(FACTS)}"


def test_labels_word_known_values_and_pass_others_through():
    assert label("focus", "api") == "APIs and services"
    assert label("batteries", "i18n") == "translations"
    assert label("focus", "games") == "games"
    assert label("colour", "red") == "red"


def test_frameworks_in_reads_the_profiles_it_is_given():
    bottle = load_profiles()["bottle"]
    mine = {"mine": dataclasses.replace(bottle, key="mine", section="async"), "bottle": bottle}
    assert frameworks_in("async", mine) == ["mine"]
    assert frameworks_in("specialized", mine) == ["bottle"]
    with pytest.raises(ValueError) as refused:
        frameworks_in("hobby")
    assert str(refused.value) == "unknown section 'hobby'; sections are: lightweight, full-stack, async, specialized"
