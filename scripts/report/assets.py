"""The page's inline stylesheet and script (no CDN: the file must open offline).

The sections under the grid are laid out only when scrolled near (`content-visibility:auto`):
at 500 cells x 200 tests, laying out the 100 000 heat-map squares before the first screen took
most of the page's time. The heat map's body is one HTML string (escaped), and a square's title
is made when the pointer reaches it."""

from __future__ import annotations

PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:.8em 1.5em;color:#1f2328}
h1{margin:0;font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de}
.summary{margin:.2em 0}#verdict h2{margin-top:.6em}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left}
th{background:#f6f8fa;cursor:pointer;user-select:none}
th[data-dir=asc]::after{content:" \\2191"}th[data-dir=desc]::after{content:" \\2193"}
.pill{display:inline-flex;align-items:center;gap:3px;padding:0 .5em;border:1px solid #000;
 border-radius:1em;white-space:nowrap}
.wide{overflow-x:auto}
#cells-table td{white-space:nowrap;vertical-align:top}
#cells-table td.note{white-space:normal;min-width:8em;max-width:30em}
#cells-table td.stack{max-width:14em}
#cells-table td.note summary{cursor:pointer;white-space:nowrap}
#cells-table td.note .cause{display:inline-block;max-width:8em;overflow:hidden;
 text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom}
#cells-table td.note details[open] .cause{white-space:normal}
#cells-table td.note pre{margin:.3em 0;font-size:12px;max-height:16em;overflow:auto}
.srv{display:inline-block;max-width:9em;overflow:hidden;text-overflow:ellipsis;
 vertical-align:bottom;cursor:help;border-bottom:1px dotted #57606a}
tr:target{outline:3px solid #0072B2}
.controls{display:flex;gap:.6em;align-items:center;margin:.5em 0}
.legend{display:flex;flex-wrap:wrap;gap:.9em;font-size:12px}
.legend span{display:inline-flex;align-items:center;gap:3px}
.legend i.o{display:inline-block;width:14px;height:14px;border:1px solid #57606a}
.scroll{overflow:auto;max-height:80vh;border:1px solid #d0d7de}
#heatmap td.o{width:16px;min-width:16px;max-width:16px;height:16px;padding:0;cursor:pointer}
#heatmap th.cell{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;
 font-size:11px;padding:4px 1px;white-space:nowrap;min-width:16px;max-width:16px}
#heatmap td.name{white-space:nowrap;font:12px ui-monospace,monospace;position:sticky;left:0;
 background:#fff;z-index:1;max-width:32em;overflow:hidden;text-overflow:ellipsis}
#heatmap thead th{position:sticky;top:0;z-index:2}
#heatmap thead th:first-child{left:0;z-index:3}
.o-p{background:#009E73}.o-f{background:#D55E00}.o-e{background:#CC79A7}.o-k{background:#E69F00}
.o-s{background:#e1e4e8}.o-x{background:#56B4E9}.o-X{background:#0072B2}
.o-f{background-image:linear-gradient(45deg,transparent 43%,#000 43% 57%,transparent 57%),
 linear-gradient(-45deg,transparent 43%,#000 43% 57%,transparent 57%)}
.o-k{background-image:linear-gradient(to top right,transparent 50%,#fff 50%)}
.o-e{box-shadow:inset 0 0 0 3px #000}
.o-s{background-image:radial-gradient(circle,#57606a 22%,transparent 26%)}
.o-x{background-image:linear-gradient(transparent 40%,#000 40% 60%,transparent 60%)}
.o-X{background-image:linear-gradient(90deg,transparent 40%,#fff 40% 60%,transparent 60%)}
.o-none,.o-n{background:repeating-linear-gradient(45deg,#fff,#fff 3px,#c8c8c8 3px,#c8c8c8 5px)}
th.c-error{background:#f5dcea}th.c-unavailable{background:#eaeef2}th.c-failed{background:#f9dccb}
th.c-flaky{background:#fbecc8}
#detail{background:#f6f8fa;padding:.6em;white-space:pre-wrap;max-height:20em;overflow:auto}
pre{white-space:pre-wrap}
#cells,#history,#heatmap-section,#failures,#changes{content-visibility:auto;
 contain-intrinsic-size:auto 900px}
"""

PAGE_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("compat-data").textContent);
  var NAMES = {p: "passed", f: "failed", e: "error", k: "flaky", s: "skipped", x: "xfailed",
               X: "xpassed", "-": "not run"};
  var PROBLEM = {f: 1, e: 1, k: 1};
  var table = document.getElementById("heatmap");
  var status = document.getElementById("heatmap-status");
  var detail = document.getElementById("detail");
  var rows = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function build() {
    var head = el("thead"), hr = el("tr");
    var nameTh = el("th", "", "Test"); nameTh.dataset.key = "name"; hr.appendChild(nameTh);
    var countTh = el("th", "", "Problems");
    countTh.dataset.key = "problems"; hr.appendChild(countTh);
    data.cells.forEach(function (cell, c) {
      var th = el("th", "cell c-" + cell.state, cell.id);
      th.title = cell.id + ": " + cell.state + (cell.reason ? " — " + cell.reason : "");
      th.dataset.key = "cell"; th.dataset.column = String(c); th.dataset.state = cell.state;
      hr.appendChild(th);
    });
    head.appendChild(hr); table.appendChild(head);
    var body = el("tbody");
    var groupSelect = document.getElementById("group");
    data.groups.forEach(function (g, i) {
      var option = el("option", "", g); option.value = String(i); groupSelect.appendChild(option);
    });
    // one HTML string for the body: 100 000 squares built node by node take seconds
    var html = [];
    data.tests.forEach(function (test, t) {
      var id = test[0], codes = test[2], safe = escapeHtml(id), problems = 0, squares = [];
      for (var c = 0; c < codes.length; c++) {
        var code = codes.charAt(c);
        if (PROBLEM[code]) {
          problems++;
          squares.push('<td class="o o-' + code + '" data-outcome="' + NAMES[code] +
            '" data-cell="' + escapeHtml(data.cells[c].id) + '" data-test="' + safe +
            '" data-message="' + t + "," + c + '"></td>');
        } else {
          squares.push(code === "-" ? '<td class="o o-n"></td>' : '<td class="o o-' + code +
            '"></td>');
        }
      }
      html.push('<tr data-problems="' + problems + '"><td class="name" title="' + safe + '">' +
        safe + '</td><td class="count">' + problems + "</td>" + squares.join("") + "</tr>");
      rows.push({id: id, lower: id.toLowerCase(), group: test[1], codes: codes,
                 problems: problems});
    });
    body.innerHTML = html.join("");
    Array.prototype.forEach.call(body.rows, function (tr, t) { rows[t].tr = tr; });
    table.appendChild(body);
    table.addEventListener("click", onClick);
    table.addEventListener("mouseover", onOver);
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }
  var ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};

  // a square's title is made when the pointer first reaches it, not for all 100 000 at once
  function squareTitle(td) {
    if (td.title) return td.title;
    var code = td.className.slice(4), column = td.cellIndex - 2, cell = data.cells[column];
    var id = rows[td.parentNode.sectionRowIndex].id;
    return (td.title = id + " @ " + cell.id + ": " +
      (code === "n" ? "not run (cell " + cell.state + ")" : NAMES[code]));
  }

  function onOver(event) {
    var target = event.target;
    if (target.tagName === "TD" && target.classList.contains("o")) squareTitle(target);
  }

  function onClick(event) {
    var target = event.target;
    if (target.tagName === "TH") { sortHeatmap(target); return; }
    if (target.tagName === "TD" && target.classList.contains("o")) {
      var key = target.dataset.message;
      var text = key ? data.messages[key] : "";
      detail.textContent = squareTitle(target) + (text ? "\n\n" + text : "");
    }
  }

  function clearDirections(root) {
    Array.prototype.forEach.call(root.querySelectorAll("th"), function (h) {
      delete h.dataset.dir;
    });
  }

  var RANK = {e: 0, f: 1, k: 2, "-": 3, s: 4, x: 5, X: 6, p: 7};
  function sortHeatmap(th) {
    var dir = th.dataset.dir === "asc" ? "desc" : "asc";
    clearDirections(table);
    th.dataset.dir = dir;
    var sign = dir === "asc" ? 1 : -1, key = th.dataset.key, column = Number(th.dataset.column);
    rows.sort(function (a, b) {
      var r;
      if (key === "problems") r = b.problems - a.problems;
      else if (key === "cell") r = RANK[a.codes.charAt(column)] - RANK[b.codes.charAt(column)];
      else r = a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      return sign * r || (a.id < b.id ? -1 : 1);
    });
    var body = table.tBodies[0];
    rows.forEach(function (row) { body.appendChild(row.tr); });
  }

  function applyFilter() {
    var text = document.getElementById("filter").value.toLowerCase();
    var onlyProblems = document.getElementById("show").value === "problems";
    var group = document.getElementById("group").value;
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!text || row.lower.indexOf(text) >= 0) &&
        (!onlyProblems || row.problems > 0) && (group === "" || String(row.group) === group);
      row.tr.hidden = !visible;
      if (visible) shown++;
    });
    var failing = table.querySelectorAll(
      'td[data-outcome="failed"],td[data-outcome="error"]').length;
    var flaky = table.querySelectorAll('td[data-outcome="flaky"]').length;
    status.textContent = "showing " + shown + " of " + rows.length + " tests · " + failing +
      " failing and " + flaky + " flaky test×cell squares";
  }

  function sortableTables() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (tbl) {
      tbl.tHead.addEventListener("click", function (event) {
        var th = event.target.closest("th"); if (!th) return;
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var dir = th.dataset.dir === "asc" ? "desc" : "asc";
        clearDirections(tbl.tHead);
        th.dataset.dir = dir;
        var body = tbl.tBodies[0], list = Array.prototype.slice.call(body.rows);
        list.sort(function (a, b) {
          var x = a.cells[index].textContent, y = b.cells[index].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return dir === "asc" ? r : -r;
        });
        list.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function filterCells() {
    var text = document.getElementById("cells-filter").value.toLowerCase();
    var state = document.getElementById("cells-state").value;
    var body = document.getElementById("cells-table").tBodies[0], shown = 0;
    Array.prototype.forEach.call(body.rows, function (tr) {
      var visible = (!text || tr.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!state || tr.dataset.state === state);
      tr.hidden = !visible;
      if (visible) shown++;
    });
    document.getElementById("cells-status").textContent =
      "showing " + shown + " of " + body.rows.length + " cells";
  }

  build();
  ["cells-filter", "cells-state"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", filterCells);
  });
  filterCells();
  ["filter", "show", "group"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", applyFilter);
  });
  applyFilter();
  sortableTables();
  document.body.dataset.heatmap = "ready";
})();
"""
