"""The chooser's JavaScript ranks exactly as Python's rank(), for every combination of answers.

The page holds only the fragment ``show_chooser`` displays (controls, the exported scoring table,
``chooser.js``), loaded in Debian's Chromium with no network. The script is asked for the ranking
of all 23,040 combinations (keys and scores, compared with :func:`backendlab.chooser.rank`) and
for the rendered HTML of a spread of them (compared with :func:`recommendations_html`); then
real clicks change the answers and the shown ranking follows.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from backendlab.chooser import PRESETS, QUESTIONS, Answers, all_answers, chooser_html, rank, recommendations_html

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

RENDERED_SAMPLE = 400


def as_js(answers: Answers) -> dict[str, Any]:
    return {"building": answers.building, "team": answers.team, "needs": sorted(answers.needs)}


@pytest.fixture(scope="module")
def page(browser: Any) -> Any:
    context = browser.new_context()
    context.route("**/*", lambda route: route.abort())  # nothing may be fetched
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content(f"<!doctype html><html lang='en'><body>{chooser_html()}</body></html>")
    page.wait_for_function("() => window.backendlabChooser !== undefined")
    yield page
    context.close()
    assert not errors, errors


def test_the_script_ranks_every_combination_as_python_does(page: Any) -> None:
    combinations = list(all_answers())
    browser_rankings = page.evaluate(
        """combos => {
            const data = JSON.parse(document.querySelector('script.backendlab-chooser-data').textContent);
            return combos.map(a => window.backendlabChooser.rank(data, a).map(r => r.key + ':' + r.score).join(' '));
        }""",
        [as_js(a) for a in combinations],
    )
    assert len(browser_rankings) == len(combinations) == 23040
    differ = []
    for answers, in_browser in zip(combinations, browser_rankings, strict=True):
        expected = " ".join(f"{r.key}:{r.score}" for r in rank(answers))
        if in_browser != expected:
            differ.append(f"{answers}: browser {in_browser} / python {expected}")
    assert not differ, f"{len(differ)} combinations differ, e.g. {differ[:3]}"


def test_the_script_renders_the_same_html_as_python(page: Any) -> None:
    sample = random.Random(0).sample(list(all_answers()), RENDERED_SAMPLE) + list(PRESETS.values())
    rendered = page.evaluate(
        """combos => {
            const data = JSON.parse(document.querySelector('script.backendlab-chooser-data').textContent);
            return combos.map(a => window.backendlabChooser.render(data, a));
        }""",
        [as_js(a) for a in sample],
    )
    for answers, html in zip(sample, rendered, strict=True):
        assert html == recommendations_html(answers), answers


def test_clicking_answers_changes_the_shown_ranking_to_what_rank_says(page: Any) -> None:
    result = page.locator(".backendlab-chooser-result")
    page.get_by_label(QUESTIONS["building"].label_of("web-app")).check()
    page.get_by_label(QUESTIONS["needs"].label_of("admin")).check()
    expected = rank(Answers("web-app", "none", {"admin"}))[0].name
    assert result.locator(".backendlab-chooser-best strong").first.inner_text() == expected == "Django"
    page.get_by_label(QUESTIONS["building"].label_of("embedded")).check()
    page.get_by_label(QUESTIONS["needs"].label_of("admin")).uncheck()
    page.get_by_label(QUESTIONS["team"].label_of("tornado")).check()
    expected = rank(Answers("embedded", "tornado"))
    assert result.locator(".backendlab-chooser-best strong").first.inner_text() == expected[0].name
    names = result.locator("ol > li > strong").all_inner_texts()
    assert names == [r.name for r in expected]
