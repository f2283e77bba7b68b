/* Backend Lab chooser: re-ranks on every change, in the static book and in JupyterLab alike.
   It only adds up the rows Python exported (backendlab.chooser.scoring_table) and writes the
   same markup as backendlab.chooser.recommendations_html; tests/test_browser_book.py checks
   both claims for every combination of answers. No network, no kernel. */
(function () {
  "use strict";

  function escapeHtml(text) {  // what Python's html.escape does
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }

  function optionLabel(question, value) {
    for (var i = 0; i < question.options.length; i++) {
      if (question.options[i][0] === value) { return question.options[i][1]; }
    }
    return value;
  }

  // answers: {building: "api", team: "none", needs: ["orm", ...]} (needs in any order)
  function chosen(data, answers) {
    var pairs = [["building", answers.building], ["team", answers.team]];
    var needs = data.questions[2].options;
    for (var i = 0; i < needs.length; i++) {
      if (answers.needs.indexOf(needs[i][0]) >= 0) { pairs.push(["needs", needs[i][0]]); }
    }
    return pairs;
  }

  function rank(data, answers) {
    var pairs = chosen(data, answers);
    var scored = data.frameworks.map(function (framework, position) {
      var reasons = [];
      pairs.forEach(function (pair) {
        reasons = reasons.concat(data.reasons[pair[0]][pair[1]][framework.key]);
      });
      var score = reasons.reduce(function (sum, reason) { return sum + reason[0]; }, 0);
      return {key: framework.key, name: framework.name, score: score, position: position, reasons: reasons};
    });
    scored.sort(function (a, b) { return (b.score - a.score) || (a.position - b.position); });
    return scored;
  }

  function describe(data, answers) {
    var q = data.questions;
    var text = optionLabel(q[0], answers.building);
    if (answers.team !== "none") { text += "; the team knows " + optionLabel(q[1], answers.team); }
    var needs = chosen(data, answers).slice(2).map(function (pair) { return optionLabel(q[2], pair[1]); });
    if (needs.length) { text += "; needs: " + needs.join(" / "); }
    return text;
  }

  function evidenceHtml(reason) {
    var source = escapeHtml(reason[3]);
    if (reason[4]) { source = '<a href="' + escapeHtml(reason[4]) + '">' + source + "</a>"; }
    return '<span class="evidence evidence-' + reason[2] + '">' + reason[2] + "</span>: " + source;
  }

  function signed(points) { return (points > 0 ? "+" : "") + points; }

  function render(data, answers) {
    var ranking = rank(data, answers);
    var items = ranking.map(function (rec) {
      var reasons = rec.reasons.map(function (r) {
        return '<li class="' + (r[0] > 0 ? "plus" : "minus") + '">' + signed(r[0]) + " " + escapeHtml(r[1]) +
          " <small>(" + evidenceHtml(r) + ")</small></li>";
      }).join("") || "<li>no answer moves it either way</li>";
      return "<li><strong>" + escapeHtml(rec.name) + "</strong>: " + points(rec.score) + "<ul>" + reasons + "</ul></li>";
    });
    var top = ranking.filter(function (rec) { return rec.score === ranking[0].score; });
    var names = top.map(function (rec) { return "<strong>" + escapeHtml(rec.name) + "</strong>"; }).join(", ");
    var best = top.length === 1 ? "Best fit: " + names + " (" + points(top[0].score) + ")." :
      "Tied at " + points(top[0].score) + ": " + names + " (listed in the article's order).";
    return '<p class="backendlab-chooser-best">' + best + " " + escapeHtml(describe(data, answers)) + ".</p><ol>" +
      items.join("") + "</ol>";
  }

  function points(score) { return score + (Math.abs(score) === 1 ? " point" : " points"); }

  function readAnswers(form) {
    var value = function (name) { var el = form.querySelector('input[name="' + name + '"]:checked'); return el && el.value; };
    var needs = Array.prototype.map.call(form.querySelectorAll('input[name="needs"]:checked'), function (el) { return el.value; });
    return {building: value("building"), team: value("team"), needs: needs};
  }

  function inJupyterLab() { return !!document.querySelector(".jp-LabShell, #jp-main-dock-panel"); }

  function setUp(form) {
    if (form.getAttribute("data-ready")) { return; }
    var source = form.querySelector("script.backendlab-chooser-data");
    var result = form.querySelector(".backendlab-chooser-result");
    if (!source || !result) { return; }
    var data = JSON.parse(source.textContent);
    form.setAttribute("data-ready", "1");
    var update = function () {
      result.innerHTML = render(data, readAnswers(form));
      if (inJupyterLab()) {  // chapter links point at the notebooks, not at the book's pages
        Array.prototype.forEach.call(result.querySelectorAll('a[href^="../notebooks/"]'), function (a) {
          a.setAttribute("href", a.getAttribute("href").replace(/^\.\.\/notebooks\/([\w-]+)\.html#.*$/, "$1.ipynb"));
        });
      }
    };
    form.addEventListener("change", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    update();
  }

  var api = {rank: rank, render: render, describe: describe, setUp: setUp};
  window.backendlabChooser = api;
  Array.prototype.forEach.call(document.querySelectorAll("form.backendlab-chooser"), setUp);
})();
