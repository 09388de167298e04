"""The report's stylesheet and script, shipped inside the package and copied into every HTML report.

They are Python strings rather than data files so the report needs nothing but the package's
modules; the HTML report folder gets them as ``assets/report.css`` and ``assets/report.js``.
"""

CSS = r"""/* evkit report: one stylesheet for screen and print; no fonts, images or anything else from elsewhere. */
:root { --fg: #1b1f24; --muted: #5b6470; --line: #d0d7de; --head: #f3f5f7; --accent: #0b4f8a; --tag: #fff3bf; --bad: #a40e26; --ok: #17643a; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; font-size: 14px; color: var(--fg); }
body { margin: 0; }
a { color: var(--accent); }
code, .mono, .sha { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
header.bar { position: sticky; top: 0; z-index: 5; background: #0b2a45; color: #fff; padding: 6px 16px; display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: baseline; }
header.bar .case { font-weight: 600; }
header.bar a { color: #fff; text-decoration: none; }
header.bar a:hover, header.bar a.here { text-decoration: underline; }
.times { background: #eef4fa; border-bottom: 1px solid var(--line); padding: 4px 16px; font-size: 0.9em; color: #23364a; }
main { padding: 12px 16px 40px; }
h1 { font-size: 1.5em; margin: 8px 0 4px; }
h2 { font-size: 1.2em; margin: 22px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
h3 { font-size: 1.05em; margin: 14px 0 4px; }
p.lead { color: var(--muted); margin: 2px 0 10px; }
table { border-collapse: collapse; }
table.facts th { text-align: left; vertical-align: top; padding: 3px 12px 3px 0; color: var(--muted); font-weight: 600; white-space: nowrap; }
table.facts td { padding: 3px 0; vertical-align: top; }
table.grid { width: 100%; font-size: 0.93em; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; text-align: left; }
table.grid th { background: var(--head); font-weight: 600; }
table.grid td { unicode-bidi: isolate; white-space: pre-wrap; overflow-wrap: anywhere; min-width: 6em; max-width: 36em; }
.scroll { overflow-x: auto; }
.scroll > table.grid { width: max-content; min-width: 100%; }
table.grid td.wide { min-width: 18em; }
table.grid td.num { text-align: right; white-space: nowrap; min-width: 0; }
table.grid td.time { white-space: nowrap; }
table.grid td.sha, table.grid td.src { font-size: 0.82em; color: #333; }
table.grid td.src { min-width: 14em; max-width: 20em; }
table.grid td.sha { word-break: break-all; min-width: 9em; max-width: 9em; font-family: monospace; }
table.grid tr.tagged td { background: var(--tag); }
table.grid tbody tr:hover td { background: #eef6ff; }
table.grid tbody tr.tagged:hover td { background: #ffe98a; }
td .zone { display: block; color: var(--muted); font-size: 0.9em; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
.note { background: #fff8e1; border: 1px solid #f0d98c; padding: 6px 10px; margin: 8px 0; }
.controls { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 8px 0; }
.controls input[type=search] { width: 26em; max-width: 100%; padding: 4px 6px; font-size: 1em; }
.controls button { padding: 3px 10px; }
.status { color: var(--muted); }
th.sortable { cursor: pointer; user-select: none; }
th.sortable:hover { text-decoration: underline; }
th .arrow { color: var(--accent); }
th.raw, td.raw { color: #555; }
.hide-raw .raw { display: none; }
tr.detail td { background: #fbfbfd; }
dl.detail { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 4px 0; }
dl.detail dt { color: var(--muted); font-weight: 600; }
dl.detail dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: isolate; }
img.thumb { max-width: 120px; max-height: 120px; display: block; }
.tagtext { color: #6b4e00; }
/* conversation view */
.chat { display: grid; grid-template-columns: minmax(14em, 22em) 1fr; gap: 12px; }
.threads { border: 1px solid var(--line); max-height: 78vh; overflow: auto; }
.threads .t { padding: 6px 8px; border-bottom: 1px solid var(--line); cursor: pointer; unicode-bidi: isolate; overflow-wrap: anywhere; }
.threads .t:hover { background: #eef6ff; }
.threads .t.sel { background: #dbeafe; }
.threads .t .c { color: var(--muted); font-size: 0.85em; display: block; }
.messages { border: 1px solid var(--line); padding: 8px; max-height: 78vh; overflow: auto; background: #f6f7f9; }
.msg { max-width: 72%; margin: 6px 0; padding: 6px 9px; border-radius: 8px; background: #fff; border: 1px solid var(--line); unicode-bidi: isolate; }
.msg.out { margin-left: auto; background: #dcf3e3; border-color: #b5dec2; }
.msg.unknown { margin-left: 14%; background: #f1f1f1; }
.msg.tagged { outline: 3px solid #f5c400; }
.msg .meta { font-size: 0.8em; color: var(--muted); }
.msg .body { white-space: pre-wrap; overflow-wrap: anywhere; margin: 3px 0; }
.msg .src { font-size: 0.75em; color: var(--muted); overflow-wrap: anywhere; }
.msg .meta, .msg .tagtext { overflow-wrap: anywhere; }
/* map */
svg.map { border: 1px solid var(--line); background: #fbfdff; max-width: 100%; height: auto; }
svg.map .pt { fill: #c0392b; fill-opacity: 0.75; stroke: #fff; stroke-width: 0.8; }
svg.map .grid { stroke: #dfe6ee; stroke-width: 1; }
svg.map .axis { stroke: #8896a6; stroke-width: 1; }
svg.map text { font-size: 11px; fill: #445; font-family: system-ui, "DejaVu Sans", Arial, sans-serif; }
.print-only { display: none; }

@page { size: A4; margin: 16mm 12mm 16mm 12mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #555; }
}
@media print {
  html { font-size: 9pt; }
  header.bar, .controls, .noprint, tr.detail { display: none !important; }
  .print-only { display: block; }
  .times { background: none; border: 0; padding: 0 0 4px; }
  main { padding: 0; }
  table.grid { font-size: 8pt; }
  table.grid td { max-width: none; }
  thead { display: table-header-group; }
  tr, .msg { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .threads { display: none; }
  .chat { display: block; }
  .messages, .threads { max-height: none; overflow: visible; border: 0; background: none; }
  table.grid tr.tagged td { background: #fff3bf; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

JS = r"""/* evkit report pages: sortable, filterable, paginated tables and the conversation view.
 * Data comes from the page's .data.js file (window.EVKIT_DATA, parsed with JSON.parse); every
 * value is put into the page with textContent or as a DOM property, never as markup. Nothing is
 * fetched: the report works from a folder opened straight from a disk. */
"use strict";
(function () {
  var F_ID = 0, F_TS = 1, F_TSZ = 2, F_SRC = 3, F_REF = 4, F_PV = 5, F_PROF = 6, F_TAGS = 7, F_THUMB = 8;
  var CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/, CONTROLS_ALL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
  var BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/, BIDI_ALL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  var THUMB_OK = /^(thumbs\/a[0-9]+\.jpg|(\.\.\/){3}data\/[^:?#]*)$/;

  function hex(n, w) { var s = n.toString(16); while (s.length < w) s = "0" + s; return s; }
  function text(v) {
    if (v === null || v === undefined) return "";
    var s = typeof v === "string" ? v : (typeof v === "object" ? JSON.stringify(v) : String(v));
    if (CONTROLS.test(s)) s = s.replace(CONTROLS_ALL, function (c) { return "\\x" + hex(c.charCodeAt(0), 2); });
    if (BIDI.test(s)) s = s.replace(BIDI_ALL, function (c) { return "\\u" + hex(c.charCodeAt(0), 4); });
    return s;
  }
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined && content !== null) e.textContent = text(content);
    return e;
  }
  function fmt(n) { return n.toLocaleString("en-US"); }
  function timeKey(v) {
    if (typeof v !== "string") return v;
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(v);
    if (!m) return v;
    var f = (m[2] || ".");
    while (f.length < 10) f += "0";
    return m[1] + f;
  }
  function selfLink(page, id) {
    var a = document.createElement("a");
    a.href = page + "#r" + String(id | 0);
    return a;
  }

  function Table(root, data) {
    var self = this;
    this.data = data;
    this.rows = data.rows;
    this.order = null;            // indexes of rows in the current sort
    this.view = null;             // indexes after the filter
    this.hay = null;              // lower-case search text per row, built on first filter
    this.page = 0;
    this.size = 100;
    this.sortCol = null;
    this.sortDir = 1;
    this.open = {};
    this.cols = this.buildColumns();
    var controls = el("div", "controls");
    this.search = el("input");
    this.search.type = "search";
    this.search.placeholder = "Filter rows (any column; id:123 for one record)";
    this.search.setAttribute("aria-label", "Filter rows");
    var timer = null;
    this.search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.filter(); }, 180);
    });
    controls.appendChild(this.search);
    var tagLabel = el("label");
    this.tagOnly = el("input");
    this.tagOnly.type = "checkbox";
    this.tagOnly.addEventListener("change", function () { self.filter(); });
    tagLabel.appendChild(this.tagOnly);
    tagLabel.appendChild(document.createTextNode(" tagged only"));
    controls.appendChild(tagLabel);
    if (this.cols.some(function (c) { return c.kind === "raw"; })) {
      var rawLabel = el("label");
      var raw = el("input");
      raw.type = "checkbox";
      raw.addEventListener("change", function () { root.classList.toggle("hide-raw", !raw.checked); });
      rawLabel.appendChild(raw);
      rawLabel.appendChild(document.createTextNode(" show raw stored values"));
      controls.appendChild(rawLabel);
      root.classList.add("hide-raw");
    }
    var sizeSel = el("select");
    [50, 100, 500, 2000].forEach(function (n) {
      var o = el("option", null, n + " rows a page");
      o.value = String(n);
      if (n === self.size) o.selected = true;
      sizeSel.appendChild(o);
    });
    sizeSel.addEventListener("change", function () { self.size = parseInt(sizeSel.value, 10); self.page = 0; self.render(); });
    controls.appendChild(sizeSel);
    this.prev = el("button", null, "◀ previous");
    this.next = el("button", null, "next ▶");
    this.prev.addEventListener("click", function () { if (self.page > 0) { self.page--; self.render(); } });
    this.next.addEventListener("click", function () { if ((self.page + 1) * self.size < self.view.length) { self.page++; self.render(); } });
    controls.appendChild(this.prev);
    controls.appendChild(this.next);
    this.status = el("span", "status");
    controls.appendChild(this.status);
    root.appendChild(controls);
    this.printNote = el("p", "print-only muted");
    root.appendChild(this.printNote);
    var scroll = el("div", "scroll");
    var table = el("table", "grid");
    var thead = el("thead");
    var tr = el("tr");
    this.cols.forEach(function (c) {
      var th = el("th", (c.sort ? "sortable " : "") + (c.kind === "raw" ? "raw" : ""), c.label);
      if (c.sort) {
        th.title = "Sort by this column";
        th.addEventListener("click", function () { self.sortBy(c, th); });
      }
      c.th = th;
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    this.tbody = el("tbody");
    table.appendChild(this.tbody);
    scroll.appendChild(table);
    root.appendChild(scroll);
    this.tbody.addEventListener("click", function (ev) {
      var t = ev.target;
      if (t.closest && t.closest("a")) return;
      var row = t.closest ? t.closest("tr") : null;
      if (!row || !row.dataset.i) return;
      var i = parseInt(row.dataset.i, 10);
      self.open[i] = !self.open[i];
      self.render();
    });
    this.order = this.rows.map(function (_, i) { return i; });
    this.view = this.order;
  }

  Table.prototype.buildColumns = function () {
    var d = this.data, cols = [];
    var thumbs = d.rows.some(function (r) { return !!r[F_THUMB]; });
    cols.push({ label: "#", kind: "id", sort: true, get: function (r) { return r[F_ID]; } });
    if (thumbs) cols.push({ label: "Picture", kind: "thumb", get: function (r) { return r[F_THUMB]; } });
    if (d.time !== false) {
      cols.push({ label: "Time (UTC)" + (d.tz ? " and " + d.tz : ""), kind: "utc", sort: true, z: F_TSZ, get: function (r) { return r[F_TS]; } });
    }
    if (d.profileColumn) cols.push({ label: "Artefact type", kind: "profile", sort: true, get: function (r) { var p = d.profiles[r[F_PROF]]; return p ? p.label : ""; } });
    // Provenance comes before the values, in narrow wrapping cells: a wide table must never push
    // where a record came from off the screen.
    cols.push({ label: "Source (evidence, locator, row) and profile", kind: "source", sort: true, get: function (r) {
      var s = d.sources[r[F_SRC]] || [];
      var p = d.profiles[r[F_PROF]] || {};
      return (s[2] || "") + " " + (s[0] || "") + " " + (r[F_REF] || "") + " " + (p.profile || "") + " v" + (r[F_PV] || "");
    } });
    cols.push({ label: "Source SHA-256", kind: "sha", sort: true, get: function (r) { var s = d.sources[r[F_SRC]] || []; return s[1]; } });
    d.columns.forEach(function (c) {
      if (c.kind === "zoned") return;   // shown inside its UTC column
      var label = c.label + (c.kind === "utc" && c.z && d.tz ? " and " + d.tz : "");
      cols.push({ label: label, kind: c.kind, sort: true, z: c.z, get: function (r) { return r[c.i]; } });
    });
    cols.push({ label: "Tags and notes", kind: "tags", sort: true, get: function (r) { return r[F_TAGS]; } });
    return cols;
  };

  Table.prototype.haystack = function () {
    if (this.hay) return this.hay;
    var cols = this.cols, hay = new Array(this.rows.length);
    for (var i = 0; i < this.rows.length; i++) {
      var r = this.rows[i], parts = [];
      for (var j = 0; j < cols.length; j++) {
        if (cols[j].kind === "thumb") continue;
        var v = cols[j].get(r);
        if (v !== null && v !== undefined) parts.push(typeof v === "string" ? v : String(v));
        if (cols[j].z && r[cols[j].z]) parts.push(r[cols[j].z]);
      }
      hay[i] = parts.join("\u0001").toLowerCase();
    }
    this.hay = hay;
    return hay;
  };

  Table.prototype.filter = function () {
    var t0 = performance.now();
    var q = this.search.value.trim().toLowerCase();
    var tagOnly = this.tagOnly.checked;
    var rows = this.rows, order = this.order, out = [];
    var m = /^id:\s*(\d+)$/.exec(q);
    if (m) {
      var id = parseInt(m[1], 10);
      for (var i = 0; i < order.length; i++) if (rows[order[i]][F_ID] === id) out.push(order[i]);
    } else if (!q && !tagOnly) {
      out = order;
    } else {
      var hay = q ? this.haystack() : null;
      for (var k = 0; k < order.length; k++) {
        var n = order[k];
        if (tagOnly && !rows[n][F_TAGS]) continue;
        if (q && hay[n].indexOf(q) === -1) continue;
        out.push(n);
      }
    }
    this.view = out;
    this.page = 0;
    this.render();
    var ms = performance.now() - t0;
    document.body.setAttribute("data-filter-ms", ms.toFixed(1));
    document.body.setAttribute("data-filter-count", String(out.length));
    return ms;
  };

  Table.prototype.sortBy = function (c, th) {
    var t0 = performance.now();
    if (this.sortCol === c) this.sortDir = -this.sortDir; else { this.sortCol = c; this.sortDir = 1; }
    var rows = this.rows, keyf = c.key || c.get, timeish = c.kind === "utc" || c.kind === "zoned";
    var keys = new Array(rows.length), isNum = true;
    for (var i = 0; i < rows.length; i++) {
      var v = keyf(rows[i]);
      if (timeish && !c.key) v = timeKey(v);
      keys[i] = v;
      if (v !== null && v !== undefined && typeof v !== "number") isNum = false;
    }
    if (!isNum) for (var j = 0; j < keys.length; j++) if (keys[j] !== null && keys[j] !== undefined && typeof keys[j] !== "string") keys[j] = typeof keys[j] === "object" ? JSON.stringify(keys[j]) : String(keys[j]);
    var dir = this.sortDir;
    var idx = rows.map(function (_, i) { return i; });
    idx.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      var xn = x === null || x === undefined || x === "", yn = y === null || y === undefined || y === "";
      if (xn || yn) return xn === yn ? a - b : (xn ? 1 : -1);   // empty values last either way
      return x < y ? -dir : x > y ? dir : a - b;
    });
    this.order = idx;
    this.cols.forEach(function (k) { var s = k.th && k.th.querySelector(".arrow"); if (s) s.remove(); });
    th.appendChild(el("span", "arrow", dir > 0 ? " ▲" : " ▼"));
    this.filter();
    document.body.setAttribute("data-sort-ms", (performance.now() - t0).toFixed(1));
  };

  Table.prototype.cell = function (c, r) {
    var d = this.data, td = el("td", c.kind === "raw" ? "raw" : "");
    var v = c.get(r);
    if (c.kind === "id") {
      td.className = "num";
      td.id = "r" + String(r[F_ID] | 0);
      td.textContent = String(r[F_ID] | 0);
    } else if (c.kind === "thumb") {
      if (typeof v === "string" && THUMB_OK.test(v)) {
        var img = document.createElement("img");
        img.className = "thumb";
        img.alt = "picture of record " + String(r[F_ID] | 0);
        img.loading = "lazy";
        img.src = v;
        td.appendChild(img);
      }
    } else if (c.kind === "utc" || c.kind === "zoned" || c.kind === "local") {
      td.className += " time";
      td.textContent = text(v);
      if (c.kind === "utc" && c.z && r[c.z]) td.appendChild(el("span", "zone", r[c.z] + " " + d.tz));
    } else if (c.kind === "profile") {
      var p = d.profiles[r[F_PROF]];
      if (p) {
        var a = selfLink(p.page, r[F_ID]);
        a.textContent = text(p.label);
        td.appendChild(a);
      }
    } else if (c.kind === "source") {
      var s = d.sources[r[F_SRC]] || [];
      var pr = d.profiles[r[F_PROF]] || {};
      td.className = "src";
      td.appendChild(el("div", null, (s[2] || "") + " · " + (s[0] || "")));
      if (r[F_REF]) td.appendChild(el("div", null, r[F_REF]));
      td.appendChild(el("div", "muted", "profile " + (pr.profile || "") + " v" + (r[F_PV] || "")));
    } else if (c.kind === "sha") {
      td.className = "sha";
      td.textContent = text(v);
    } else if (c.kind === "tags") {
      td.className = "tagtext";
      td.textContent = text(v);
    } else if (typeof v === "number") {
      td.className += " num";
      td.textContent = String(v);
    } else {
      td.textContent = text(v);
    }
    return td;
  };

  Table.prototype.detail = function (r) {
    var d = this.data, dl = el("dl", "detail");
    function add(k, v) { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); }
    var s = d.sources[r[F_SRC]] || [], p = d.profiles[r[F_PROF]] || {};
    add("Record", String(r[F_ID]));
    add("Profile", (p.profile || "") + " version " + (r[F_PV] || "") + " / " + (p.artifact || ""));
    add("Time (UTC)", r[F_TS] || "(none)");
    if (d.tz) add("Time (" + d.tz + ")", r[F_TSZ] || "");
    d.columns.forEach(function (c) { add(c.label, r[c.i]); });
    add("Evidence", s[2] || "");
    add("Locator", s[0] || "");
    add("Row", r[F_REF] || "");
    add("Source SHA-256", s[1] || "");
    add("Copy in the case", s[3] || "");
    if (r[F_TAGS]) add("Tags and notes", r[F_TAGS]);
    return dl;
  };

  Table.prototype.render = function () {
    var view = this.view, size = this.size, start = this.page * size;
    var end = Math.min(view.length, start + size), frag = document.createDocumentFragment(), cols = this.cols;
    for (var i = start; i < end; i++) {
      var n = view[i], r = this.rows[n], tr = el("tr", r[F_TAGS] ? "tagged" : "");
      tr.dataset.i = String(n);
      for (var j = 0; j < cols.length; j++) tr.appendChild(this.cell(cols[j], r));
      frag.appendChild(tr);
      if (this.open[n]) {
        var dtr = el("tr", "detail"), td = el("td");
        td.colSpan = cols.length;
        td.appendChild(this.detail(r));
        dtr.appendChild(td);
        frag.appendChild(dtr);
      }
    }
    this.tbody.textContent = "";
    this.tbody.appendChild(frag);
    var total = this.rows.length;
    var msg = view.length ? ("Rows " + fmt(start + 1) + "–" + fmt(end) + " of " + fmt(view.length)) : "No rows";
    if (view.length !== total) msg += " (filtered from " + fmt(total) + ")";
    this.status.textContent = msg;
    this.printNote.textContent = msg + (this.search.value ? "; filter: " + text(this.search.value) : "") +
      ". Every row is in the CSV and XLSX files and the PDF.";
    this.prev.disabled = this.page === 0;
    this.next.disabled = end >= view.length;
  };

  function applyHash(t) {
    var h = decodeURIComponent(location.hash || "");
    var m = /^#r(\d+)$/.exec(h);
    if (m) {
      t.search.value = "id:" + m[1];
      t.filter();
      if (t.view.length) { t.open[t.view[0]] = true; t.render(); }
      return;
    }
    m = /^#q=([\s\S]*)$/.exec(h);
    if (m) { t.search.value = m[1]; t.filter(); }
  }

  function initTable(data) {
    var root = document.getElementById("records");
    var t0 = performance.now();
    var t = new Table(root, data);
    t.render();
    applyHash(t);
    window.addEventListener("hashchange", function () { applyHash(t); });
    document.body.setAttribute("data-render-ms", (performance.now() - t0).toFixed(1));
    document.body.setAttribute("data-rows", String(data.rows.length));
    window.evkitTable = t;
  }

  // -- conversation view ------------------------------------------------------------------
  function direction(v) {
    var s = String(v === null || v === undefined ? "" : v).toLowerCase();
    if (/^(sent|outgoing|outbox|out|queued|failed|from me|1|true)$/.test(s)) return "out";
    if (/^(received|incoming|inbox|in|0|false)$/.test(s)) return "in";
    return "unknown";
  }

  function initChat(data) {
    var root = document.getElementById("chat");
    var ch = data.chat || {};
    var rows = data.rows;
    function role(r, k) { return ch[k] === undefined ? null : r[ch[k]]; }
    // A conversation is one thread of one source file: thread values are only unique inside the
    // database that numbered them, so thread 1 of one phone is never merged with thread 1 of another.
    // A party as "Name (identifier)" when a contact of the same evidence item names it.
    function party(i, which, v) {
      var n = data.parties && data.parties[i] ? data.parties[i][which] : null;
      return n ? text(n) + " (" + text(v) + ")" : text(v);
    }
    var threads = {}, list = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], tv = role(r, "thread");
      tv = tv === null || tv === undefined ? "(no thread)" : text(tv);
      var key = String(r[F_SRC]) + "\u0000" + tv;
      var t = threads[key];
      if (!t) {
        var s = data.sources[r[F_SRC]] || [];
        t = threads[key] = { key: key, thread: tv, evidence: text(s[2] || ""), file: text(s[0] || ""),
                             items: [], last: "", senders: {} };
        list.push(t);
      }
      t.items.push(i);
      var k = timeKey(r[F_TS]) || "";
      if (k > t.last) t.last = k;
      var snd = role(r, "sender");
      if (snd !== null && snd !== undefined && Object.keys(t.senders).length < 6) t.senders[party(i, 0, snd)] = 1;
      if (!t.named) t.named = party(i, 1, tv);
    }
    function participants(t) {
      var p = Object.keys(t.senders);
      return p.length ? p.join(", ") : t.named;
    }
    list.sort(function (a, b) { return a.last < b.last ? 1 : a.last > b.last ? -1 : 0; });
    var wrap = el("div", "chat");
    var left = el("div");
    var filter = el("input");
    filter.type = "search";
    filter.placeholder = "Filter conversations";
    filter.className = "noprint";
    left.appendChild(filter);
    var tl = el("div", "threads");
    left.appendChild(tl);
    var right = el("div");
    var head = el("div", "controls");
    var title = el("strong");
    var prev = el("button", null, "◀ earlier"), next = el("button", null, "later ▶");
    var status = el("span", "status");
    head.appendChild(title); head.appendChild(prev); head.appendChild(next); head.appendChild(status);
    right.appendChild(head);
    var box = el("div", "messages");
    right.appendChild(box);
    wrap.appendChild(left); wrap.appendChild(right);
    root.appendChild(wrap);
    var current = null, page = 0, PAGE = 300;
    function showThreads() {
      var q = filter.value.trim().toLowerCase(), shown = 0;
      tl.textContent = "";
      for (var i = 0; i < list.length && shown < 500; i++) {
        var t = list[i];
        var label = [participants(t), t.thread, t.evidence, t.file].join(" ");
        if (q && label.toLowerCase().indexOf(q) === -1) continue;
        var d = el("div", "t" + (t === current ? " sel" : ""), participants(t));
        d.setAttribute("title", participants(t));
        d.setAttribute("data-thread", t.thread);
        d.setAttribute("data-evidence", t.evidence);
        d.setAttribute("data-count", String(t.items.length));
        d.appendChild(el("span", "c", fmt(t.items.length) + " messages · last " + (rows[t.items[t.items.length - 1]][F_TS] || "?")));
        d.appendChild(el("span", "c", "evidence " + t.evidence + " · thread " + t.thread + " · " + t.file));
        (function (t) { d.addEventListener("click", function () { current = t; page = 0; showThreads(); showMessages(); }); })(t);
        tl.appendChild(d);
        shown++;
      }
      if (shown === 500) tl.appendChild(el("div", "t muted", "More conversations: refine the filter."));
    }
    function showMessages() {
      box.textContent = "";
      if (!current) return;
      var items = current.items.slice().sort(function (a, b) {
        var x = timeKey(rows[a][F_TS]) || "\uffff", y = timeKey(rows[b][F_TS]) || "\uffff";
        return x < y ? -1 : x > y ? 1 : rows[a][F_ID] - rows[b][F_ID];
      });
      var pages = Math.max(1, Math.ceil(items.length / PAGE));
      if (page >= pages) page = pages - 1;
      title.textContent = "Conversation with " + participants(current) + " (evidence " + current.evidence +
        ", thread " + current.thread + ")";
      status.textContent = "messages " + fmt(page * PAGE + 1) + "–" + fmt(Math.min(items.length, (page + 1) * PAGE)) + " of " + fmt(items.length);
      prev.disabled = page === 0; next.disabled = page >= pages - 1;
      var frag = document.createDocumentFragment();
      items.slice(page * PAGE, (page + 1) * PAGE).forEach(function (n) {
        var r = rows[n], dir = role(r, "direction"), cls = direction(dir);
        var m = el("div", "msg " + cls + (r[F_TAGS] ? " tagged" : ""));
        // The sender role holds the other party (an SMS address is the correspondent both ways), so an
        // outgoing message is labelled "to" it: starting with the number would read as if it had sent it.
        var snd = role(r, "sender"), who = snd !== null && snd !== undefined ? party(n, 0, snd) : null;
        var whom = cls === "out" ? "to " + (who || participants(current)) :
          cls === "in" ? "from " + (who || "(sender not recorded)") : (who || "(party not recorded)");
        var meta = whom + " · " + (dir === null || dir === undefined ? "direction not recorded" : text(dir)) + " · " + (r[F_TS] || "no time");
        m.appendChild(el("div", "meta", meta));
        if (data.tz && r[F_TSZ]) m.appendChild(el("div", "meta", r[F_TSZ] + " " + data.tz));
        m.appendChild(el("div", "body", role(r, "body")));
        var s = data.sources[r[F_SRC]] || [];
        var src = el("div", "src");
        var a = selfLink(data.tablePage, r[F_ID]);
        a.textContent = "record " + String(r[F_ID] | 0);
        src.appendChild(a);
        src.appendChild(document.createTextNode(text(" · " + (s[2] || "") + " · " + (s[0] || "") + " " + (r[F_REF] || "") + " · sha256 " + (s[1] || ""))));
        m.appendChild(src);
        if (r[F_TAGS]) m.appendChild(el("div", "tagtext", r[F_TAGS]));
        frag.appendChild(m);
      });
      box.appendChild(frag);
    }
    prev.addEventListener("click", function () { if (page > 0) { page--; showMessages(); } });
    next.addEventListener("click", function () { page++; showMessages(); });
    filter.addEventListener("input", showThreads);
    current = list.length ? list[0] : null;
    showThreads();
    showMessages();
    document.body.setAttribute("data-threads", String(list.length));
  }

  function start() {
    var data = window.EVKIT_DATA;
    if (!data) return;
    if (typeof window.EVKIT_DATA_MS === "number") document.body.setAttribute("data-parse-ms", window.EVKIT_DATA_MS.toFixed(1));
    if (document.body.dataset.view === "chat") initChat(data); else initTable(data);
    document.body.setAttribute("data-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
"""
