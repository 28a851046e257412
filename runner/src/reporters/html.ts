import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Results } from '../results.js';
import type { Reporter } from './reporter.js';

/**
 * DIR/report.html: one self-contained page (no network, no external files but the peer logs it
 * links to). Per suite, a heat-map — rows are servers, columns are clients, colour by pass rate
 * — whose cells open into their cases: status per transport, error, and links to the logs.
 */
export function renderHtml(results: Results, logBase: (log: string) => string): string {
  const data = {
    ...results,
    cells: results.cells.map((c) => ({ ...c, ...(c.log ? { log: logBase(c.log) } : {}) })),
  };
  // </script> inside the JSON would end the script element: escape "<".
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gRPC interop matrix</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1b1f24; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
  .meta { color: #57606a; margin-bottom: 12px; }
  table.heat { border-collapse: collapse; }
  table.heat th { font-weight: 600; padding: 6px 10px; text-align: center; }
  table.heat th.row { text-align: right; }
  table.heat td { width: 92px; height: 44px; text-align: center; cursor: pointer; border: 2px solid #fff; border-radius: 6px; font-weight: 600; }
  table.heat td.empty { background: #f6f8fa; cursor: default; color: #8c959f; }
  table.heat td.open { outline: 3px solid #0969da; }
  .corner { color: #57606a; font-weight: 400 !important; font-size: 12px; }
  .detail { margin: 12px 0 0; padding: 12px; border: 1px solid #d0d7de; border-radius: 6px; max-width: 1100px; }
  .detail table { border-collapse: collapse; width: 100%; }
  .detail td, .detail th { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: left; vertical-align: top; }
  .detail pre { white-space: pre-wrap; margin: 0; font-size: 12px; max-height: 160px; overflow: auto; }
  .s-passed { color: #1a7f37; } .s-failed, .s-unexpected_pass { color: #cf222e; font-weight: 600; }
  .s-known_failure, .s-flaky { color: #9a6700; } .s-skipped { color: #8c959f; }
  .legend span { display: inline-block; padding: 2px 8px; border-radius: 4px; margin-right: 6px; }
</style>
</head>
<body>
<h1>gRPC interop matrix</h1>
<div class="meta" id="meta"></div>
<div class="legend">colour = share of a pairing's cells that passed (known failures and flaky cells count as passing; any failure turns it red):
  <span style="background:hsl(120,55%,80%)">100 %</span><span style="background:hsl(60,80%,78%)">50 %</span><span style="background:hsl(0,75%,80%)">0 % / failing</span></div>
<div id="suites"></div>
<script type="application/json" id="results">${json}</script>
<script>
"use strict";
const results = JSON.parse(document.getElementById("results").textContent);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const unique = (xs) => [...new Set(xs)];
const ok = (c) => c.status === "passed" || c.status === "known_failure" || c.status === "flaky";
const bad = (c) => c.status === "failed" || c.status === "unexpected_pass";
const counts = {};
for (const c of results.cells) counts[c.status] = (counts[c.status] || 0) + 1;
const versions = Object.entries(results.implementations).filter(([, i]) => i.version).map(([n, i]) => n + " = " + i.library + " " + i.version);
document.getElementById("meta").textContent = results.cells.length + " cells — " +
  Object.entries(counts).map(([s, n]) => n + " " + s.replace("_", " ")).join(", ") +
  " — started " + results.startedAt + ", " + (results.durationMs / 1000).toFixed(1) + " s" + (versions.length ? " — " + versions.join(", ") : "");

function detail(cells) {
  const rows = cells.map((c) => el("tr", {},
    el("td", {}, c.case), el("td", {}, c.transport),
    el("td", { class: "s-" + c.status }, c.status.replace("_", " ") + (c.attempts > 1 ? " (" + c.attempts + " attempts)" : "")),
    el("td", {}, c.durationMs + " ms"),
    el("td", {}, c.error ? el("pre", {}, c.error) : ""),
    el("td", {}, c.log ? el("a", { href: c.log }, "log") : "")));
  return el("div", { class: "detail" }, el("strong", {}, cells[0].client + " → " + cells[0].server + " / " + cells[0].suite),
    el("table", {}, el("tr", {}, ...["case", "transport", "status", "time", "error", "peer log"].map((h) => el("th", {}, h))), ...rows));
}

for (const suite of unique(results.cells.map((c) => c.suite))) {
  const cells = results.cells.filter((c) => c.suite === suite);
  const clients = unique(cells.map((c) => c.client));
  const servers = unique(cells.map((c) => c.server));
  const section = el("section", { "data-suite": suite }, el("h2", {}, suite + " — " + unique(cells.map((c) => c.transport)).join(", ")));
  const table = el("table", { class: "heat" }, el("tr", {}, el("th", { class: "corner" }, "server ↓  client →"), ...clients.map((c) => el("th", {}, c))));
  const holder = el("div", {});
  for (const server of servers) {
    const tr = el("tr", {}, el("th", { class: "row" }, server));
    for (const client of clients) {
      const here = cells.filter((c) => c.client === client && c.server === server);
      if (here.length === 0) { tr.append(el("td", { class: "empty" }, "—")); continue; }
      const rate = here.filter(ok).length / here.length;
      const hue = here.some(bad) ? 0 : Math.round(120 * rate);
      const td = el("td", { style: "background:hsl(" + hue + "," + (hue === 0 ? 75 : 60) + "%,80%)", title: client + " → " + server + ": " + here.filter(ok).length + "/" + here.length },
        here.filter(ok).length + "/" + here.length);
      td.dataset.key = suite + "/" + client + "/" + server;
      td.addEventListener("click", () => {
        const open = td.classList.contains("open");
        table.querySelectorAll("td.open").forEach((t) => t.classList.remove("open"));
        holder.replaceChildren();
        if (!open) { td.classList.add("open"); holder.append(detail(here)); }
      });
      tr.append(td);
    }
    table.append(tr);
  }
  section.append(table, holder);
  document.getElementById("suites").append(section);
}
// A link to report.html#open=SUITE/CLIENT/SERVER opens that pairing's cases.
const wanted = decodeURIComponent(location.hash).match(/^#open=(.+)$/);
if (wanted) for (const td of document.querySelectorAll("td[data-key]")) if (td.dataset.key === wanted[1]) td.click();
</script>
</body>
</html>
`;
}

export function writeHtml(outDir: string, results: Results, root: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'report.html');
  writeFileSync(file, renderHtml(results, (log) => relative(outDir, join(root, log))));
  return file;
}

export const htmlReporter = (outDir: string, root: string): Reporter => ({ onEnd: (results) => void writeHtml(outDir, results, root) });
