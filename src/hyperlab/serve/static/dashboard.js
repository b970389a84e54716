// hyperlab dashboard: polls the JSON API and redraws (no framework, no network beyond this server).
"use strict";
// matplotlib's tab10, the report's figure colours, in plan order
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"];
const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}
function ago(t) {
  if (!t) return "";
  const s = Math.max(0, Date.now() / 1000 - t);
  if (s < 60) return `${s.toFixed(0)} s ago`;
  if (s < 3600) return `${(s / 60).toFixed(0)} min ago`;
  return new Date(t * 1000).toLocaleString();
}
function fmt(x, key) {
  if (x === null || x === undefined || x === "") return "";
  if (typeof x !== "number") return String(x);
  if (/accuracy/.test(key)) return (100 * x).toFixed(1) + "%";
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3);
}
async function getJSON(url) {
  const response = await fetch(url, {cache: "no-store"});
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
function every(ms, fn) {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try { await fn(); } catch (err) { console.warn(String(err)); } finally { busy = false; }
  };
  tick();
  setInterval(tick, ms);
}

// --- the studies page --------------------------------------------------------------------------
function indexPage(body) {
  const render = (studies) => {
    const tbody = document.querySelector("#studies tbody");
    if (!studies.length) return;
    tbody.replaceChildren(...studies.map((s) => {
      const tr = el("tr");
      const name = el("td"); name.append(el("a", {href: s.url}, s.name)); tr.append(name);
      for (const k of ["design", "trials", "done", "running", "pending", "failed", "diverged"]) tr.append(el("td", {}, s[k]));
      tr.append(el("td", {class: "time", "data-t": s.updated}, ago(s.updated)));
      const report = el("td"); if (s.report_url) report.append(el("a", {href: s.report_url}, "report"));
      tr.append(report);
      return tr;
    }));
  };
  document.querySelectorAll("td.time").forEach((td) => { td.textContent = ago(Number(td.dataset.t)); });
  every(Number(body.dataset.poll), async () => render(await getJSON("/api/studies")));
}

// --- the study page ----------------------------------------------------------------------------
const view = {sortKey: null, sortDir: 1, selected: null, state: null};

function studyPage(body) {
  const name = body.dataset.study;
  const api = `/api/study/${encodeURIComponent(name)}`;
  document.querySelectorAll("#trials th").forEach((th) => th.addEventListener("click", () => {
    view.sortDir = view.sortKey === th.dataset.key ? -view.sortDir : 1;
    view.sortKey = th.dataset.key;
    document.querySelectorAll("#trials th").forEach((h) => h.classList.remove("asc", "desc"));
    th.classList.add(view.sortDir > 0 ? "asc" : "desc");
    renderTrials();
  }));
  for (const id of ["status-filter", "variant-filter"]) document.getElementById(id).addEventListener("change", renderTrials);
  every(Number(body.dataset.poll), async () => {
    view.state = await getJSON(api);
    renderStudy(view.state);
    if (view.selected) await showTrial(name, view.selected, false);
  });
}

function renderStudy(s) {
  const live = document.getElementById("live");
  live.textContent = s.running ? "running" : "finished";
  live.className = "badge " + (s.running ? "running" : "finished");
  document.getElementById("description").textContent = s.description;
  document.getElementById("epoch-count").textContent = s.epochs_total;
  document.getElementById("epoch-planned").textContent = s.epochs_planned;
  const c = s.counts;
  document.getElementById("trial-counts").textContent =
    `${c.done}/${s.trials_total} done, ${c.running} running, ${c.pending} pending, ${c.failed} failed, ${c.diverged} diverged` +
    (c.pruned ? `, ${c.pruned} pruned` : "") + (c.infeasible ? `, ${c.infeasible} infeasible` : "");  // search studies
  document.getElementById("updated").textContent = ago(s.updated);
  const report = document.getElementById("report");
  report.replaceChildren();
  if (s.report_url) { report.append(" · "); report.append(el("a", {href: s.report_url, id: "report-link"}, "report")); }
  const tbody = document.querySelector("#variants tbody");
  tbody.replaceChildren(...s.variants.map((v, i) => {
    const tr = el("tr");
    const name = el("td"); name.append(el("i", {style: `display:inline-block;width:10px;height:10px;margin-right:6px;background:${COLORS[i % COLORS.length]}`}));
    name.append(v.name); tr.append(name);
    for (const k of ["trials", "done", "running", "pending", "failed", "diverged"]) tr.append(el("td", {}, v[k]));
    tr.append(el("td", {}, `${v.epochs}/${v.epochs_planned}`));
    const bar = el("span", {class: "bar"}); const fill = el("span");
    fill.style.width = `${v.epochs_planned ? (100 * v.epochs) / v.epochs_planned : 0}%`;
    bar.append(fill); const td = el("td"); td.append(bar); tr.append(td);
    return tr;
  }));
  renderCharts(s);
  if (s.search) renderSearch(s.search);
  fillFilter("status-filter", [...new Set(s.trials.map((t) => t.status))].sort());
  fillFilter("variant-filter", s.variants.map((v) => v.name));
  renderTrials();
}

function fillFilter(id, values) {
  const select = document.getElementById(id);
  const have = [...select.options].map((o) => o.value);
  for (const v of values) if (!have.includes(v)) select.append(el("option", {value: v}, v));
}

function renderCharts(s) {
  const colorOf = Object.fromEntries(s.variants.map((v, i) => [v.name, COLORS[i % COLORS.length]]));
  const box = document.getElementById("charts");
  box.replaceChildren(...s.charts.map((chart) => drawChart(chart, colorOf)));
  const legend = document.getElementById("legend");
  legend.replaceChildren(...s.variants.map((v) => {
    const span = el("span"); span.append(el("i", {style: `background:${colorOf[v.name]}`})); span.append(v.name);
    return span;
  }));
}

function drawChart(chart, colorOf) {
  const W = 440, H = 260, L = 48, R = 10, T = 22, B = 30;
  const svg = el("svg:svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart", "data-title": chart.title});
  let xmax = 1, ymin = Infinity, ymax = -Infinity;
  for (const s of chart.series) {
    // the axis fits the means and the seeds; a band wider than that (2 seeds: t = 12.7) is clipped
    for (const [e, m] of s.mean) { xmax = Math.max(xmax, e); ymin = Math.min(ymin, m); ymax = Math.max(ymax, m); }
    for (const pts of Object.values(s.seeds)) for (const [, y] of pts) { ymin = Math.min(ymin, y); ymax = Math.max(ymax, y); }
  }
  svg.append(el("svg:text", {x: L, y: 14}, chart.title + " (train dashed, validation solid)"));
  if (!isFinite(ymin)) { svg.append(el("svg:text", {x: L, y: H / 2}, "no epochs yet")); return svg; }
  if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
  const pad = 0.04 * (ymax - ymin); ymin -= pad; ymax += pad;
  const x = (e) => L + ((e - 1) / Math.max(1, xmax - 1)) * (W - L - R);
  const y = (v) => T + (1 - (Math.min(ymax, Math.max(ymin, v)) - ymin) / (ymax - ymin)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = ymin + (i / 4) * (ymax - ymin);
    svg.append(el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), class: "gridline"}));
    svg.append(el("svg:text", {x: L - 4, y: y(v) + 4, "text-anchor": "end"}, fmt(v, chart.title)));
  }
  const ticks = Math.min(xmax, 6);
  for (let i = 0; i < ticks; i++) {
    const e = Math.round(1 + (i / Math.max(1, ticks - 1)) * (xmax - 1));
    svg.append(el("svg:text", {x: x(e), y: H - B + 14, "text-anchor": "middle"}, e));
  }
  svg.append(el("svg:text", {x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle"}, "epoch"));
  svg.append(el("svg:line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}));
  svg.append(el("svg:line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}));
  const line = (pts) => pts.map(([e, v]) => `${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  for (const s of chart.series) {
    const color = colorOf[s.variant] || "#000";
    const dash = s.split === "train" ? "5 3" : "none";
    // a band from 3 seeds on: with 2 the t-interval is 12.7 standard errors wide and hides the curves
    const band = s.mean.filter((p) => p[2] !== null && p[3] !== null && p[4] >= 3);
    if (band.length > 1) {
      const pts = band.map((p) => [p[0], p[3]]).concat(band.map((p) => [p[0], p[2]]).reverse());
      svg.append(el("svg:polygon", {points: line(pts), fill: color, "fill-opacity": 0.12, stroke: "none"}));
    }
    for (const pts of Object.values(s.seeds)) {
      if (pts.length > 1) svg.append(el("svg:polyline", {points: line(pts), fill: "none", stroke: color,
        "stroke-opacity": 0.3, "stroke-width": 1, "stroke-dasharray": dash}));
    }
    const mean = s.mean.map((p) => [p[0], p[1]]);
    if (mean.length === 1) svg.append(el("svg:circle", {cx: x(mean[0][0]), cy: y(mean[0][1]), r: 2.5, fill: color}));
    else if (mean.length) svg.append(el("svg:polyline", {points: line(mean), fill: "none", stroke: color,
      "stroke-width": 2, "stroke-dasharray": dash, class: "mean", "data-variant": s.variant, "data-split": s.split}));
  }
  return svg;
}

// --- a search study: optimization history and importance (computed by the server, drawn here) ---------
// the report's status colours (report/search.py): pruned orange, infeasible grey, failed/diverged red
const STATUS_COLORS = {completed: "#1f77b4", early_stopped: "#1f77b4", pruned: "#ff7f0e", infeasible: "#7f7f7f",
                       diverged: "#d62728", failed: "#d62728"};

function renderSearch(p) {
  document.getElementById("search").hidden = false;
  const counts = Object.entries(p.counts || {}).map(([k, n]) => `${n} ${k}`).join(", ");
  const best = p.best ? ` · best so far: trial ${p.best.number}, ${p.objective} ${fmt(p.best.value, p.objective)} ` +
    `(${p.best.variant})` : "";
  const state = p.error ? ` · analysis failed: ${p.error}` : p.computing ? " · updating…" : "";
  document.getElementById("search-summary").textContent = p.finished === null ? `Analysing the search${state}` :
    `${p.sampler} sampler, ${p.pruner} pruner; objective ${p.objective} (${p.maximize ? "higher" : "lower"} is ` +
    `better) · searched trials: ${counts || "none finished yet"}${best}${state}`;
  if (p.finished === null) return;
  document.getElementById("search-history").replaceChildren(drawHistory(p));
  document.getElementById("importance").replaceChildren(drawImportance(p));
  document.getElementById("importance-note").textContent = p.importance_note || "";
  document.getElementById("search-verdict").textContent = p.verdict ? `Confirmation: ${p.verdict}` : "";
}

function drawHistory(p) {
  const W = 440, H = 260, L = 48, R = 10, T = 22, B = 30;
  const svg = el("svg:svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart", id: "history-chart"});
  svg.append(el("svg:text", {x: L, y: 14}, `optimization history: ${p.objective} (dots), best so far (line)`));
  const valued = p.history.filter((t) => t.value !== null);
  const n = Math.max(1, ...p.history.map((t) => t.number));
  let ymin = Math.min(...valued.map((t) => t.value)), ymax = Math.max(...valued.map((t) => t.value));
  if (!valued.length) { ymin = 0; ymax = 1; }
  if (ymax === ymin) { ymax += 0.5; ymin -= 0.5; }
  const pad = 0.06 * (ymax - ymin); ymin -= pad; ymax += pad;
  const x = (k) => L + ((k - 0.5) / n) * (W - L - R);
  const y = (v) => T + (1 - (v - ymin) / (ymax - ymin)) * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = ymin + (i / 4) * (ymax - ymin);
    svg.append(el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), class: "gridline"}));
    svg.append(el("svg:text", {x: L - 4, y: y(v) + 4, "text-anchor": "end"}, fmt(v, p.objective)));
  }
  svg.append(el("svg:line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}));
  svg.append(el("svg:line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}));
  svg.append(el("svg:text", {x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle"}, `trial (1 to ${n})`));
  // best so far: a step line through the trials that have a value
  const steps = [];
  for (const t of p.history) {
    if (t.best === null) continue;
    if (steps.length) steps.push([x(t.number), steps[steps.length - 1][1]]);
    steps.push([x(t.number), y(t.best)]);
  }
  if (steps.length) svg.append(el("svg:polyline", {class: "best", points: steps.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}));
  for (const t of p.history) {
    const color = STATUS_COLORS[t.status] || "#000";
    const title = el("svg:title", {}, `trial ${t.number}: ${t.status}` + (t.value !== null ? `, ${p.objective} ${fmt(t.value, p.objective)}` : "") +
      ` (${t.variant})`);
    let mark;
    if (t.value !== null) mark = el("svg:circle", {cx: x(t.number), cy: y(t.value), r: 3.5, fill: color, class: "trial", "data-status": t.status});
    else {  // no value (pruned, infeasible, failed, diverged): a cross on the axis, in the status colour
      const cx = x(t.number), cy = H - B - 6;
      mark = el("svg:path", {d: `M${cx - 4},${cy - 4}L${cx + 4},${cy + 4}M${cx - 4},${cy + 4}L${cx + 4},${cy - 4}`,
        stroke: color, "stroke-width": 2, class: "trial marked", "data-status": t.status});
    }
    mark.append(title);
    svg.append(mark);
  }
  const marked = [...new Set(p.history.filter((t) => t.value === null).map((t) => t.status))];
  if (marked.length) svg.append(el("svg:text", {x: W - R, y: T + 10, "text-anchor": "end"}, `× on the axis: ${marked.join(", ")}`));
  return svg;
}

function drawImportance(p) {
  const rows = p.importance, W = 440, L = 120, R = 60, T = 22, row = 26;
  const H = T + Math.max(1, rows.length) * row + 28;
  const svg = el("svg:svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "chart", id: "importance-chart"});
  svg.append(el("svg:text", {x: 8, y: 14}, "importance (PED-ANOVA), 95% bootstrap interval"));
  if (!rows.length) { svg.append(el("svg:text", {x: 8, y: T + 18}, p.importance_note || "not computed yet")); return svg; }
  const x = (v) => L + Math.min(1, Math.max(0, v)) * (W - L - R);
  rows.forEach((r, i) => {
    const cy = T + i * row + row / 2;
    svg.append(el("svg:text", {x: L - 6, y: cy + 4, "text-anchor": "end"}, r.factor));
    const bar = el("svg:rect", {x: L, y: cy - 7, width: Math.max(0.5, x(r.importance) - L), height: 14, class: "bar-imp", "data-factor": r.factor});
    bar.append(el("svg:title", {}, `${r.factor}: ${r.importance.toFixed(3)} (95% interval ${r.lo.toFixed(3)} to ${r.hi.toFixed(3)})`));
    svg.append(bar);
    svg.append(el("svg:line", {x1: x(r.lo), x2: x(r.hi), y1: cy, y2: cy, class: "whisker"}));
    for (const v of [r.lo, r.hi]) svg.append(el("svg:line", {x1: x(v), x2: x(v), y1: cy - 4, y2: cy + 4, class: "whisker"}));
    svg.append(el("svg:text", {x: W - R + 6, y: cy + 4}, r.importance.toFixed(2)));
  });
  const base = T + rows.length * row + 4;
  svg.append(el("svg:line", {x1: L, x2: W - R, y1: base, y2: base, class: "axis"}));
  for (const v of [0, 0.5, 1]) svg.append(el("svg:text", {x: x(v), y: base + 14, "text-anchor": "middle"}, v));
  return svg;
}

function renderTrials() {
  const s = view.state;
  if (!s) return;
  const status = document.getElementById("status-filter").value;
  const variant = document.getElementById("variant-filter").value;
  let rows = s.trials.filter((t) => (!status || t.status === status) && (!variant || t.variant === variant));
  if (view.sortKey) {
    const k = view.sortKey;
    rows = rows.slice().sort((a, b) => {
      const va = a[k], vb = b[k];
      if (va === vb) return 0;
      if (va === null || va === undefined) return 1;
      if (vb === null || vb === undefined) return -1;
      return (va < vb ? -1 : 1) * view.sortDir;
    });
  }
  const keys = ["variant", "seed", "status", "epochs", "best_epoch", "best_val_accuracy", "test_accuracy", "seconds", "stop_reason"];
  document.querySelector("#trials tbody").replaceChildren(...rows.map((t) => {
    const tr = el("tr", {"data-key": t.key, class: t.key === view.selected ? "selected" : ""});
    for (const k of keys) tr.append(el("td", k === "status" ? {class: `status-${t.status}`} : {}, fmt(t[k], k)));
    tr.addEventListener("click", () => showTrial(s.name, t.key, true));
    return tr;
  }));
}

async function showTrial(study, key, scroll) {
  view.selected = key;
  const d = await getJSON(`/api/study/${encodeURIComponent(study)}/trial/${encodeURIComponent(key)}`);
  const box = document.getElementById("trial-detail");
  box.hidden = false;
  const head = el("h2", {}, `${d.variant}, seed ${d.seed}: ${d.status}`);
  const why = el("p", {}, `Stop reason: ${d.stop_reason || (d.status === "running" ? "still training" : "none recorded")}` +
    (d.error ? ` · error: ${d.error}` : "") + ` · trial ${d.key.slice(0, 12)} · attempts ${d.attempts}`);
  const cols = [...new Set(d.epochs.flatMap((r) => Object.keys(r)))];
  const table = el("table", {class: "grid", id: "trial-epochs"});
  const hr = el("tr"); for (const c of cols) hr.append(el("th", {}, c));
  const thead = el("thead"); thead.append(hr); table.append(thead);
  const tb = el("tbody");
  for (const r of d.epochs) { const tr = el("tr"); for (const c of cols) tr.append(el("td", {}, fmt(r[c], c))); tb.append(tr); }
  table.append(tb);
  const finals = Object.entries(d.final).map(([k, v]) => `${k} ${fmt(v, k)}`).join(" · ");
  box.replaceChildren(head, why, table, el("p", {class: "muted"}, finals ? `Final: ${finals}` : ""));
  document.querySelectorAll("#trials tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.key === key));
  if (scroll) box.scrollIntoView({behavior: "smooth", block: "nearest"});
}

document.addEventListener("DOMContentLoaded", () => {
  const body = document.body;
  if (body.dataset.page === "index") indexPage(body);
  if (body.dataset.page === "study") studyPage(body);
});
