import { join, relative } from 'node:path';
import { incompleteLine, isBad, type CellResult, type Results } from '../results.js';
import { writeReport } from './atomic.js';
import { boundariesOf, boundaryLine, compatTable } from './compat.js';
import { entryOf, labelOf, notRunLine, toneOf } from './grid.js';
import type { Reporter } from './reporter.js';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const unique = (xs: string[]) => [...new Set(xs)];

const keyOf = (c: CellResult) => `${c.suite}/${c.client}/${c.server}`;

/** The red INCOMPLETE RUN banner of a run that did not finish, else nothing. */
function banner(results: Results): string {
  const line = incompleteLine(results);
  return line ? `<div class="banner" role="alert">${escapeHtml(line)}</div>\n` : '';
}

/** "N cells — 40 passed, 2 failed — started …, 12.3 s — ts = grpc-js 1.14.7, …" */
function meta(results: Results): string {
  const counts = new Map<string, number>();
  for (const c of results.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const versions = Object.entries(results.implementations).filter(([, i]) => i.version).map(([n, i]) => `${n} = ${i.library} ${i.version}`);
  return [
    `${results.cells.length} cells`,
    [...counts].map(([s, n]) => `${n} ${s.replace('_', ' ')}`).join(', '),
    `started ${results.startedAt}, ${(results.durationMs / 1000).toFixed(1)} s`,
    ...(versions.length > 0 ? [versions.join(', ')] : []),
  ].join(' — ');
}

/**
 * The failing, unexpectedly passing and flaky cells, each with its reason (the first line of its
 * error), a link that opens its pairing below and one to its log; then how many were not run.
 */
function failing(results: Results, logBase: (log: string) => string, limit = 50): string {
  const bad = results.cells.filter((c) => isBad(c, true));
  const rows = bad.slice(0, limit).map((c) => {
    const reason = (c.error ?? '').split('\n')[0]!.slice(0, 300);
    const log = c.log ? `<a href="${escapeHtml(logBase(c.log))}">log</a>` : '';
    return `<tr><td class="id"><a href="#open=${escapeHtml(encodeURIComponent(keyOf(c)))}">${escapeHtml(c.id)}</a></td><td class="s-${c.status}">${c.status.replace('_', ' ')}</td><td class="reason">${escapeHtml(reason)}</td><td>${log}</td></tr>`;
  });
  const notRun = notRunLine(results);
  return [
    bad.length === 0
      ? '<p class="none">No failing, unexpectedly passing or flaky cells.</p>'
      : `<h2>${bad.length} failing, unexpectedly passing or flaky cell${bad.length === 1 ? '' : 's'}</h2>\n<table class="failing">\n<tr><th>cell</th><th>status</th><th>reason</th><th>peer log</th></tr>\n${rows.join('\n')}\n</table>`,
    ...(bad.length > limit ? [`<p>… and ${bad.length - limit} more: open the heat-map entries below.</p>`] : []),
    ...(notRun ? [`<p class="not-run">${notRun}</p>`] : []),
  ].join('\n');
}

/** With several releases of a library: client releases × server releases, and the version boundaries. */
function compatSection(results: Results): string {
  const table = compatTable(results);
  if (!table) return '';
  const head = `<tr><th class="corner">client ↓  server →</th>${table.servers.map((s) => `<th>${escapeHtml(s.label)}</th>`).join('')}</tr>`;
  const rows = table.clients.map((client) => {
    const entries = table.servers.map((server) => {
      const e = table.entry(client.key, server.key);
      return e ? `<td class="tone-${toneOf(e.worst)}" title="${escapeHtml(`${client.label} → ${server.label}: ${labelOf(e)}`)}">${labelOf(e)}</td>` : '<td class="empty">—</td>';
    });
    return `<tr><th class="row">${escapeHtml(client.label)}</th>${entries.join('')}</tr>`;
  });
  const boundaries = boundariesOf(results).map((b) => `<li>${escapeHtml(boundaryLine(b, results.implementations[b.base]?.library))}</li>`);
  return `<section class="compat"><h2>Compatibility — every suite and transport</h2>\n<table class="heat compat">\n${head}\n${rows.join('\n')}\n</table>${boundaries.length > 0 ? `\n<h2>Version boundaries (failures that pass with another release)</h2>\n<ul>${boundaries.join('')}</ul>` : ''}</section>`;
}

/** Per suite, a heat-map: rows are clients, columns are servers, each entry coloured by its worst cell. */
function heatMaps(results: Results): string {
  return unique(results.cells.map((c) => c.suite))
    .map((suite) => {
      const cells = results.cells.filter((c) => c.suite === suite);
      const servers = unique(cells.map((c) => c.server));
      const rows = unique(cells.map((c) => c.client)).map((client) => {
        const entries = servers.map((server) => {
          const here = cells.filter((c) => c.client === client && c.server === server);
          if (here.length === 0) return '<td class="empty">—</td>';
          const e = entryOf(here);
          return `<td class="tone-${toneOf(e.worst)}" data-key="${escapeHtml(keyOf(here[0]!))}" title="${escapeHtml(`${client} → ${server}: ${labelOf(e)}`)}">${labelOf(e)}</td>`;
        });
        return `<tr><th class="row">${escapeHtml(client)}</th>${entries.join('')}</tr>`;
      });
      const head = `<tr><th class="corner">client ↓  server →</th>${servers.map((s) => `<th>${escapeHtml(s)}</th>`).join('')}</tr>`;
      const transports = unique(cells.map((c) => c.transport)).join(', ');
      return `<section data-suite="${escapeHtml(suite)}"><h2>${escapeHtml(`${suite} — ${transports}`)}</h2>\n<table class="heat">\n${head}\n${rows.join('\n')}\n</table>\n<div class="holder"></div></section>`;
    })
    .join('\n');
}

/**
 * DIR/report.html: one self-contained page (no network, no external files but the peer logs it
 * links to). First the INCOMPLETE banner of a run that did not finish and the failing cells with
 * their reasons and logs; then per suite a heat-map — rows are clients, columns are servers, each
 * entry coloured by its worst cell as in the other reports — whose entries open into their cases:
 * status per transport, error, and links to the logs.
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
  .banner { background: #cf222e; color: #fff; font-weight: 700; font-size: 16px; padding: 10px 14px; border-radius: 6px; margin: 0 0 16px; }
  .meta { color: #57606a; margin-bottom: 12px; }
  table.failing { border-collapse: collapse; max-width: 1200px; }
  table.failing td, table.failing th { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: left; vertical-align: top; }
  table.failing td.id { white-space: nowrap; font-size: 13px; }
  table.failing td.reason { font: 12px/1.45 ui-monospace, monospace; overflow-wrap: anywhere; }
  .not-run { color: #57606a; font-weight: 600; }
  table.heat { border-collapse: collapse; }
  table.heat th { font-weight: 600; padding: 6px 10px; text-align: center; }
  table.heat th.row { text-align: right; }
  table.heat td { min-width: 92px; height: 44px; padding: 0 8px; text-align: center; cursor: pointer; border: 2px solid #fff; border-radius: 6px; font-weight: 600; }
  table.heat td.empty { background: #f6f8fa; cursor: default; color: #8c959f; }
  table.heat td.open { outline: 3px solid #0969da; }
  .tone-green { background: hsl(120,55%,80%); } .tone-yellow { background: hsl(48,95%,72%); }
  .tone-red { background: hsl(0,75%,80%); } .tone-grey { background: #d0d7de; color: #57606a; }
  .corner { color: #57606a; font-weight: 400 !important; font-size: 12px; white-space: pre; }
  .detail { margin: 12px 0 0; padding: 12px; border: 1px solid #d0d7de; border-radius: 6px; max-width: 1100px; }
  .detail table { border-collapse: collapse; width: 100%; }
  .detail td, .detail th { border-bottom: 1px solid #eaeef2; padding: 4px 8px; text-align: left; vertical-align: top; }
  .detail td.time, .detail th, table.failing th { white-space: nowrap; }
  .detail pre { white-space: pre-wrap; margin: 0; font-size: 12px; max-height: 160px; overflow: auto; }
  .s-passed { color: #1a7f37; } .s-failed, .s-unexpected_pass { color: #cf222e; font-weight: 600; }
  .s-known_failure, .s-flaky { color: #9a6700; } .s-skipped, .s-not_run { color: #8c959f; }
  .legend { margin-top: 20px; }
  .legend span { display: inline-block; padding: 2px 8px; border-radius: 4px; margin-right: 6px; }
</style>
</head>
<body>
${banner(results)}<h1>gRPC interop matrix</h1>
<div class="meta">${escapeHtml(meta(results))}</div>
${failing(results, logBase)}
<div class="legend">colour = a pairing's worst cell:
  <span class="tone-green">all passed</span><span class="tone-yellow">known failures or flaky</span><span class="tone-red">a failure or unexpected pass</span><span class="tone-grey">not run</span></div>
${compatSection(results)}
${heatMaps(results)}
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
const cellsOf = {};
for (const c of results.cells) (cellsOf[c.suite + "/" + c.client + "/" + c.server] ||= []).push(c);

function detail(cells) {
  const rows = cells.map((c) => el("tr", {},
    el("td", {}, c.case), el("td", {}, c.transport),
    el("td", { class: "s-" + c.status }, c.status.replace("_", " ") + (c.attempts > 1 ? " (" + c.attempts + " attempts)" : "")),
    el("td", { class: "time" }, c.durationMs + " ms"),
    el("td", {}, c.error ? el("pre", {}, c.error) : ""),
    el("td", {}, c.log ? el("a", { href: c.log }, "log") : "")));
  return el("div", { class: "detail" }, el("strong", {}, cells[0].client + " → " + cells[0].server + " / " + cells[0].suite),
    el("table", {}, el("tr", {}, ...["case", "transport", "status", "time", "error", "peer log"].map((h) => el("th", {}, h))), ...rows));
}

// An entry opens its cases below its heat-map (and closes them again).
for (const td of document.querySelectorAll("td[data-key]")) {
  td.addEventListener("click", () => {
    const section = td.closest("section");
    const holder = section.querySelector(".holder");
    const open = td.classList.contains("open");
    section.querySelectorAll("td.open").forEach((t) => t.classList.remove("open"));
    holder.replaceChildren();
    if (!open) { td.classList.add("open"); holder.append(detail(cellsOf[td.dataset.key])); }
  });
}
// A link to report.html#open=SUITE/CLIENT/SERVER opens that pairing's cases; followed within the page, it shows them.
function openFromHash(show) {
  const wanted = decodeURIComponent(location.hash).match(/^#open=(.+)$/);
  const td = wanted && [...document.querySelectorAll("td[data-key]")].find((t) => t.dataset.key === wanted[1]);
  if (!td) return;
  if (!td.classList.contains("open")) td.click();
  if (show) td.scrollIntoView({ block: "start" });
}
openFromHash(false);
addEventListener("hashchange", () => openFromHash(true));
</script>
</body>
</html>
`;
}

/** Writes DIR/report.html; ROOT is the repository, which cells' log paths are relative to. */
export function writeHtml(outDir: string, results: Results, root: string): string {
  return writeReport(outDir, 'report.html', renderHtml(results, (log) => relative(outDir, join(root, log))));
}

export const htmlReporter = (outDir: string, root: string): Reporter => ({ onEnd: (results) => void writeHtml(outDir, results, root) });
