import pc from 'picocolors';
import type { CellResult, CellStatus, Results } from '../results.js';
import type { Reporter } from './reporter.js';

type Paint = (s: string) => string;

const PAINT: Record<CellStatus, Paint> = {
  passed: pc.green,
  failed: pc.red,
  unexpected_pass: pc.magenta,
  known_failure: pc.yellow,
  flaky: pc.yellow,
  skipped: pc.dim,
};

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - [...s].length));

/** The colour of a grid cell: its worst status. */
function worst(cells: CellResult[]): CellStatus {
  const order: CellStatus[] = ['failed', 'unexpected_pass', 'flaky', 'known_failure', 'skipped', 'passed'];
  return order.find((s) => cells.some((c) => c.status === s)) ?? 'passed';
}

/** One grid per suite and transport: rows are clients, columns are servers, "passed/total". */
export function renderGrids(results: Results): string {
  const out: string[] = [];
  const keys = [...new Set(results.cells.map((c) => `${c.suite}\0${c.transport}`))];
  for (const key of keys) {
    const [suite, transport] = key.split('\0') as [string, string];
    const cells = results.cells.filter((c) => c.suite === suite && c.transport === transport);
    const clients = [...new Set(cells.map((c) => c.client))];
    const servers = [...new Set(cells.map((c) => c.server))];
    const corner = 'client ↓  server →';
    const width = Math.max(8, ...servers.map((s) => s.length + 2));
    const first = Math.max(corner.length, ...clients.map((c) => c.length)) + 2;
    out.push(pc.bold(`${suite} · ${transport}`));
    out.push(pad(corner, first) + servers.map((s) => pad(s, width)).join(''));
    for (const client of clients) {
      const row = servers.map((server) => {
        const here = cells.filter((c) => c.client === client && c.server === server);
        if (here.length === 0) return pad('—', width);
        const ok = here.filter((c) => c.status === 'passed' || c.status === 'known_failure' || c.status === 'flaky').length;
        return PAINT[worst(here)](pad(`${ok}/${here.length}`, width));
      });
      out.push(pad(client, first) + row.join(''));
    }
    out.push('');
  }
  return out.join('\n');
}

export function renderFailures(results: Results, limit = 50): string {
  const bad = results.cells.filter((c) => c.status === 'failed' || c.status === 'unexpected_pass');
  if (bad.length === 0) return '';
  const lines = [pc.bold(pc.red(`${bad.length} failing cell${bad.length === 1 ? '' : 's'}:`))];
  for (const cell of bad.slice(0, limit)) {
    const [first, ...rest] = (cell.error ?? cell.status).split('\n');
    lines.push(`${PAINT[cell.status]('✗')} ${cell.id}: ${first}`);
    for (const more of rest.slice(0, 8)) lines.push(pc.dim(`    ${more}`));
    if (cell.log) lines.push(pc.dim(`    log: ${cell.log}`));
  }
  if (bad.length > limit) lines.push(`… and ${bad.length - limit} more (see results.json)`);
  return `${lines.join('\n')}\n`;
}

export function renderFlaky(results: Results): string {
  const flaky = results.cells.filter((c) => c.status === 'flaky');
  if (flaky.length === 0) return '';
  const lines = [pc.bold(pc.yellow(`${flaky.length} flaky cell${flaky.length === 1 ? '' : 's'} (passed on a retry):`))];
  for (const cell of flaky) lines.push(`${pc.yellow('~')} ${cell.id}: ${(cell.error ?? '').split('\n')[0]}`);
  return `${lines.join('\n')}\n`;
}

export function renderSummary(results: Results): string {
  const counts = new Map<CellStatus, number>();
  for (const c of results.cells) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const parts = [...counts.entries()].map(([status, n]) => PAINT[status](`${n} ${status.replace('_', ' ')}`));
  const versions = Object.entries(results.implementations)
    .filter(([, i]) => i.version)
    .map(([name, i]) => `${name}=${i.library} ${i.version}`)
    .join(', ');
  return `${results.cells.length} cells: ${parts.join(', ')} in ${(results.durationMs / 1000).toFixed(1)} s${versions ? `\nlibraries: ${versions}` : ''}\n`;
}

/** Progress while running (a counter on a terminal; failures as they happen), then grid and failures. */
export function terminalReporter(stream: NodeJS.WriteStream = process.stdout): Reporter {
  let total = 0;
  let done = 0;
  const tty = stream.isTTY === true;
  return {
    onBegin: (n) => {
      total = n;
    },
    onCell: (cell) => {
      done++;
      if (tty) stream.write(`\r\x1b[2K[${done}/${total}] ${cell.id}`);
      if (cell.status === 'failed' || cell.status === 'unexpected_pass') {
        if (tty) stream.write('\r\x1b[2K');
        stream.write(`${PAINT[cell.status]('✗')} ${cell.id}: ${(cell.error ?? '').split('\n')[0]}\n`);
      }
    },
    onEnd: (results) => {
      if (tty) stream.write('\r\x1b[2K');
      stream.write(`\n${renderGrids(results)}${renderFlaky(results)}${renderFailures(results)}${renderSummary(results)}`);
    },
  };
}
