"""The page's inline stylesheet and script (no CDN: the file must open offline)."""

from __future__ import annotations

PAGE_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em;color:#1f2328}
h1{margin:0 0 .3em}h2{margin-top:1.6em;border-bottom:1px solid #d0d7de}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left}
th{background:#f6f8fa;cursor:pointer;user-select:none}
th[data-dir=asc]::after{content:" ▲"}th[data-dir=desc]::after{content:" ▼"}
.pill{display:inline-block;padding:0 .5em;border-radius:1em;white-space:nowrap;color:#fff;
background:#2da44e}
tr.s-failed .pill{background:#cf222e}tr.s-flaky .pill{background:#bf8700}
tr.s-error .pill{background:#8250df}tr.s-unavailable .pill{background:#6e7781}
.prov{display:block;color:#57606a;font-size:11px;word-break:break-all;max-width:28em}
#cells-table td:last-child{min-width:22em}
.controls{display:flex;gap:.6em;align-items:center;margin:.5em 0}
.legend span{display:inline-block;margin-right:.6em;padding:0 .4em;border-radius:3px}
.scroll{overflow:auto;max-height:80vh;border:1px solid #d0d7de}
#heatmap td.o{width:14px;min-width:14px;height:14px;padding:0;cursor:pointer}
#heatmap th.cell{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;
 font-size:11px;padding:4px 1px;white-space:nowrap}
#heatmap td.name{white-space:nowrap;font:12px ui-monospace,monospace;position:sticky;left:0;
 background:#fff}
#heatmap thead th{position:sticky;top:0;z-index:1}
.o-p{background:#2da44e}.o-f{background:#cf222e}.o-e{background:#8250df}
.o-k{background:#e3a008}.o-s{background:#afb8c1}.o-x{background:#d0d7de}.o-X{background:#bf8700}
.o-none,.o-n{background:repeating-linear-gradient(45deg,#fff,#fff 3px,#eaeef2 3px,#eaeef2 6px)}
.legend .o-p,.legend .o-f,.legend .o-e{color:#fff}
th.c-error{background:#eddeff}th.c-unavailable{background:#eaeef2}th.c-failed{background:#ffebe9}
th.c-flaky{background:#fff8c5}
#detail{background:#f6f8fa;padding:.6em;white-space:pre-wrap;max-height:20em;overflow:auto}
pre{white-space:pre-wrap}
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
    data.tests.forEach(function (test, t) {
      var id = test[0], codes = test[2], tr = el("tr"), problems = 0;
      tr.appendChild(el("td", "name", id));
      var count = el("td", "count"); tr.appendChild(count);
      for (var c = 0; c < codes.length; c++) {
        var code = codes.charAt(c);
        var td = el("td", "o " + (code === "-" ? "o-n" : "o-" + code));
        var cell = data.cells[c];
        td.title = id + " @ " + cell.id + ": " +
          (code === "-" ? "not run (cell " + cell.state + ")" : NAMES[code]);
        if (PROBLEM[code]) {
          problems++;
          td.dataset.outcome = NAMES[code]; td.dataset.cell = cell.id; td.dataset.test = id;
          td.dataset.message = t + "," + c;
        }
        tr.appendChild(td);
      }
      count.textContent = String(problems);
      tr.dataset.problems = String(problems);
      rows.push({tr: tr, id: id, lower: id.toLowerCase(), group: test[1], codes: codes,
                 problems: problems});
      body.appendChild(tr);
    });
    table.appendChild(body);
    table.addEventListener("click", onClick);
  }

  function onClick(event) {
    var target = event.target;
    if (target.tagName === "TH") { sortHeatmap(target); return; }
    if (target.tagName === "TD" && target.classList.contains("o")) {
      var key = target.dataset.message;
      var text = key ? data.messages[key] : "";
      detail.textContent = target.title + (text ? "\n\n" + text : "");
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

  build();
  ["filter", "show", "group"].forEach(function (id) {
    document.getElementById(id).addEventListener("input", applyFilter);
  });
  applyFilter();
  sortableTables();
  document.body.dataset.heatmap = "ready";
})();
"""
