import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import { incompleteLine, isBad, type CellStatus, type Results, type Timings } from '../results.js';
import { boundariesOf, boundaryLine, compatTable } from './compat.js';
import { gridsOf, labelOf, notRunLine } from './grid.js';
import type { Reporter } from './reporter.js';

type Paint = (s: string) => string;

const PAINT: Record<CellStatus, Paint> = {
  passed: pc.green,
  failed: pc.red,
  unexpected_pass: pc.magenta,
  known_failure: pc.yellow,
  flaky: pc.yellow,
  skipped: pc.dim,
  not_run: pc.dim,
};

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - [...s].length));

/** The bold red INCOMPLETE RUN line of a run that did not run everything it planned, else nothing. */
export function renderBanner(results: Results): string {
  const line = incompleteLine(results);
  return line ? `${pc.bold(pc.red(line))}\n` : '';
}

/**
 * One grid per suite and transport: rows are clients, columns are servers, "fine/total" (and
 * "· N not run"), after the INCOMPLETE banner when the run did not finish.
 */
export function renderGrids(results: Results): string {
  const out: string[] = results.incomplete ? [renderBanner(results)] : [];
  for (const grid of gridsOf(results)) {
    const corner = 'client ↓  server →';
    const rows = grid.clients.map((client) => grid.servers.map((server) => grid.entry(client, server)));
    const widths = grid.servers.map((s, i) => Math.max(8, s.length + 2, ...rows.map((row) => (row[i] ? labelOf(row[i]).length + 2 : 0))));
    const first = Math.max(corner.length, ...grid.clients.map((c) => c.length)) + 2;
    out.push(pc.bold(`${grid.suite} · ${grid.transport}`));
    out.push(pad(corner, first) + grid.servers.map((s, i) => pad(s, widths[i]!)).join(''));
    grid.clients.forEach((client, r) => {
      const row = rows[r]!.map((e, i) => (e ? PAINT[e.worst](pad(labelOf(e), widths[i]!)) : pad('—', widths[i]!)));
      out.push(pad(client, first) + row.join(''));
    });
    out.push('');
  }
  return out.join('\n');
}

/**
 * With several releases of a library: client releases × server releases over every suite and
 * transport, then the version boundaries of the failures (a failure that passes with another
 * release of the same library in the same place).
 */
export function renderCompat(results: Results): string {
  const table = compatTable(results);
  if (!table) return '';
  const corner = 'client ↓  server →';
  const out = [pc.bold('compatibility · every suite and transport (cells fine / cells)')];
  const rows = table.clients.map((c) => table.servers.map((s) => table.entry(c.key, s.key)));
  const widths = table.servers.map((s, i) => Math.max(s.label.length + 2, ...rows.map((row) => (row[i] ? labelOf(row[i]).length + 2 : 3))));
  const first = Math.max(corner.length, ...table.clients.map((c) => c.label.length)) + 2;
  out.push(pad(corner, first) + table.servers.map((s, i) => pad(s.label, widths[i]!)).join(''));
  table.clients.forEach((client, r) => {
    out.push(pad(client.label, first) + rows[r]!.map((e, i) => (e ? PAINT[e.worst](pad(labelOf(e), widths[i]!)) : pad('—', widths[i]!))).join(''));
  });
  const boundaries = boundariesOf(results);
  if (boundaries.length > 0) {
    out.push('', pc.bold('version boundaries (failures that pass with another release):'));
    for (const b of boundaries) out.push(`  ${boundaryLine(b, libraryOf(results, b.base))}`);
  }
  return `${out.join('\n')}\n\n`;
}

/** The library name of an implementation (grpc-js for ts), from results.json. */
export const libraryOf = (results: Results, base: string): string | undefined => results.implementations[base]?.library;

/** The failing cells with their reasons and logs, then one line for the cells not run (never failures). */
export function renderFailures(results: Results, limit = 50): string {
  const bad = results.cells.filter((c) => isBad(c));
  const lines = bad.length === 0 ? [] : [pc.bold(pc.red(`${bad.length} failing cell${bad.length === 1 ? '' : 's'}:`))];
  for (const cell of bad.slice(0, limit)) {
    const [first, ...rest] = (cell.error ?? cell.status).split('\n');
    lines.push(`${PAINT[cell.status]('✗')} ${cell.id}: ${first}`);
    for (const more of rest.slice(0, 8)) lines.push(pc.dim(`    ${more}`));
    if (cell.log) lines.push(pc.dim(`    log: ${cell.log}`));
  }
  if (bad.length > limit) lines.push(`… and ${bad.length - limit} more (see results.json)`);
  const notRun = notRunLine(results);
  if (notRun) lines.push(PAINT.not_run(notRun));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export function renderFlaky(results: Results): string {
  const flaky = results.cells.filter((c) => c.status === 'flaky');
  if (flaky.length === 0) return '';
  const lines = [pc.bold(pc.yellow(`${flaky.length} flaky cell${flaky.length === 1 ? '' : 's'} (passed on a retry):`))];
  for (const cell of flaky) lines.push(`${pc.yellow('~')} ${cell.id}: ${(cell.error ?? '').split('\n')[0]}`);
  return `${lines.join('\n')}\n`;
}

/** Counts, time and libraries, and last the INCOMPLETE banner when the run did not finish. */
export function renderSummary(results: Results): string {
  const counts = new Map<CellStatus, number>();
  for (const c of results.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const parts = [...counts.entries()].map(([status, n]) => PAINT[status](`${n} ${status.replace('_', ' ')}`));
  const versions = Object.entries(results.implementations)
    .filter(([, i]) => i.version)
    .map(([name, i]) => `${name}=${i.library} ${i.version}`)
    .join(', ');
  const t = results.timings;
  const time = t ? `\ntime: ${renderTimings(t)}` : '';
  const where = results.launcher?.name === 'docker' ? `\nlauncher: docker (${results.launcher.compose})` : '';
  return `${results.cells.length} cells: ${parts.join(', ')} in ${(results.durationMs / 1000).toFixed(1)} s${versions ? `\nlibraries: ${versions}` : ''}${time}${where}\n${renderBanner(results)}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "build 0.3 s · 42 server starts 12.1 s · 120 client runs in 8 processes 30.2 s (cases 20.0 s)" (summed over peers running in parallel) */
export function renderTimings(t: Timings): string {
  return [
    ...(t.buildMs !== undefined ? [`build ${seconds(t.buildMs)}`] : []),
    `${t.serverStarts} server starts ${seconds(t.serverStartMs)}`,
    `${t.clientRuns} client runs${t.clientProcesses !== undefined && t.clientProcesses !== t.clientRuns ? ` in ${t.clientProcesses} processes` : ''} ${seconds(t.clientMs)} (cases ${seconds(t.caseMs)})`,
  ].join(' · ');
}

/** "1200/28368 cells (4 %) · 2 failed · 45 s · about 3 min 10 s left" */
export function progressLine(done: number, total: number, bad: number, elapsedMs: number): string {
  const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
  const left = done > 0 && done < total ? ` · about ${duration((elapsedMs * (total - done)) / done)} left` : '';
  return `${done}/${total} cells (${percent} %) · ${bad} failed · ${duration(elapsedMs)}${left}`;
}

/** 45 s, 3 min 10 s, 1 h 5 min */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How often a progress line is printed without a terminal (CI logs). */
export const PLAIN_PROGRESS_MS = 5000;
/** How often the live line is redrawn on a terminal. */
const LIVE_REDRAW_MS = 100;

/**
 * Progress while running, then grid and failures. On a terminal, one line redrawn in place
 * (log-update): cells done of planned, failures so far, an estimate of the time left, the cell
 * just done; without one (CI), a plain progress line every PLAIN_PROGRESS_MS. Failures are
 * printed as they happen either way.
 */
export function terminalReporter(stream: NodeJS.WriteStream = process.stdout, plainEveryMs = PLAIN_PROGRESS_MS): Reporter {
  let total = 0;
  let done = 0;
  let bad = 0;
  let began = 0;
  let last = '';
  let drawn = 0;
  let ticker: NodeJS.Timeout | undefined;
  // A terminal of no size (a pty nobody sized, as `script` makes) shows nothing redrawn: plain lines there.
  const sized = stream.columns !== 0 && stream.rows !== 0;
  const live = stream.isTTY === true && sized ? createLogUpdate(stream, { showCursor: true }) : undefined;
  const line = () => progressLine(done, total, bad, performance.now() - began);
  const draw = () => {
    drawn = performance.now();
    const text = `${line()} · ${last}`;
    live?.(text.slice(0, Math.max(20, (stream.columns ?? 100) - 1)));
  };
  return {
    onBegin: (n) => {
      total = n;
      began = performance.now();
      if (!live) {
        ticker = setInterval(() => stream.write(`progress: ${line()}\n`), plainEveryMs);
        ticker.unref();
      }
    },
    onCell: (cell) => {
      done++;
      last = cell.id;
      if (isBad(cell)) {
        bad++;
        live?.clear();
        stream.write(`${PAINT[cell.status]('✗')} ${cell.id}: ${(cell.error ?? '').split('\n')[0]}\n`);
        if (live) draw();
      } else if (live && performance.now() - drawn >= LIVE_REDRAW_MS) {
        draw();
      }
    },
    onEnd: (results) => {
      clearInterval(ticker);
      live?.clear();
      stream.write(`\n${renderGrids(results)}${renderCompat(results)}${renderFlaky(results)}${renderFailures(results)}${renderSummary(results)}`);
    },
  };
}
