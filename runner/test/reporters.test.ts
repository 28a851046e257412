import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { incompleteLine, type CellResult, type CellStatus, type Results } from '../src/results.js';
import { gridsOf } from '../src/reporters/grid.js';
import { renderHtml, writeHtml } from '../src/reporters/html.js';
import { writeResultsJson } from '../src/reporters/json.js';
import { writeJunit } from '../src/reporters/junit.js';
import { renderMarkdown, writeMarkdown } from '../src/reporters/markdown.js';
import { progressLine, renderFailures, renderGrids, renderSummary, terminalReporter } from '../src/reporters/terminal.js';

const ERRORS: Partial<Record<CellStatus, string>> = {
  failed: 'expected 5 replies, got 4\n    at the second line of the trace',
  known_failure: 'known failure: grpc-js sends no compressed responses',
  flaky: 'passed on attempt 2; attempt 1 failed: UNAVAILABLE',
  not_run: 'not run: interrupted by SIGTERM',
};

const LOG = 'reports/logs/ts/insecure/client-go.log';

function cell(client: string, server: string, kase: string, status: CellStatus): CellResult {
  const error = ERRORS[status];
  return {
    id: `${client}→${server}/insecure/seeds/${kase}`,
    client,
    server,
    transport: 'insecure',
    suite: 'seeds',
    case: kase,
    status,
    durationMs: status === 'not_run' ? 0 : 150,
    attempts: status === 'not_run' ? 0 : status === 'flaky' ? 2 : 1,
    ...(error ? { error } : {}),
    ...(status === 'failed' ? { log: LOG } : {}),
  };
}

/**
 * Three clients, two servers: ts→ts all passed, ts→go a known failure, go→ts a failure,
 * go→go and python→go (partly) not run, python→ts flaky.
 */
function interrupted(): Results {
  return {
    schema: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 4200,
    implementations: {},
    cells: [
      cell('ts', 'ts', 'a', 'passed'),
      cell('ts', 'ts', 'b', 'passed'),
      cell('ts', 'go', 'a', 'passed'),
      cell('ts', 'go', 'b', 'known_failure'),
      cell('go', 'ts', 'a', 'passed'),
      cell('go', 'ts', 'b', 'failed'),
      cell('go', 'go', 'a', 'passed'),
      cell('go', 'go', 'b', 'not_run'),
      cell('python', 'ts', 'a', 'flaky'),
      cell('python', 'ts', 'b', 'passed'),
      cell('python', 'go', 'a', 'not_run'),
      cell('python', 'go', 'b', 'not_run'),
    ],
    incomplete: { reason: 'interrupted by SIGTERM', notRun: 3 },
  };
}

/** The same run, finished: what was not run passed. */
function complete(): Results {
  const { incomplete: _, ...results } = interrupted();
  return { ...results, cells: results.cells.map((c) => (c.status === 'not_run' ? cell(c.client, c.server, c.case, 'passed') : c)) };
}

const BANNER = 'INCOMPLETE RUN — interrupted by SIGTERM: 3 of 12 planned cells not run';
/** Without colours (picocolors paints when the environment asks for it, e.g. in CI). */
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A "repository" holding the failed cell's log, and an output folder elsewhere. */
function repoWithLog(): { root: string; outDir: string } {
  const root = tempDir('repo-');
  mkdirSync(dirname(join(root, LOG)), { recursive: true });
  writeFileSync(join(root, LOG), 'the client log\n');
  return { root, outDir: join(tempDir('out-'), 'reports', 'run-1') };
}

describe('terminal report', () => {
  it('an incomplete run opens the grids and ends the summary with the INCOMPLETE banner; a complete run has none', () => {
    expect(incompleteLine(interrupted())).toBe(BANNER);
    expect(plain(renderGrids(interrupted())).split('\n')[0]).toBe(BANNER);
    expect(plain(renderSummary(interrupted())).trimEnd().split('\n').at(-1)).toBe(BANNER);
    expect(plain(renderGrids(complete()) + renderSummary(complete()))).not.toMatch(/INCOMPLETE/);
  });

  it('the summary names the Compose a Docker run used, and says nothing of the launcher for processes', () => {
    expect(plain(renderSummary({ ...complete(), launcher: { name: 'docker', compose: 'docker compose 2.40.3' } }))).toMatch(/^launcher: docker \(docker compose 2\.40\.3\)$/m);
    expect(plain(renderSummary({ ...complete(), launcher: { name: 'process' } }))).not.toMatch(/launcher/);
  });

  it('the reporter prints the banner before the grids and again last', () => {
    let text = '';
    const stream = { isTTY: false, write: (s: string) => (text += s) } as unknown as NodeJS.WriteStream;
    void terminalReporter(stream).onEnd(interrupted());
    const lines = plain(text).trim().split('\n');
    expect(lines[0]).toBe(BANNER);
    expect(lines.at(-1)).toBe(BANNER);
    expect(lines.indexOf('seeds · insecure')).toBeGreaterThan(0);
  });

  it('a progress line: cells done of planned, failures, time so far and an estimate of the time left', () => {
    expect(progressLine(1200, 28368, 2, 45_000)).toBe('1200/28368 cells (4 %) · 2 failed · 45 s · about 16 min 59 s left');
    expect(progressLine(0, 10, 0, 0)).toBe('0/10 cells (0 %) · 0 failed · 0 s');
    expect(progressLine(10, 10, 1, 3_723_000)).toBe('10/10 cells (100 %) · 1 failed · 1 h 2 min');
  });

  it('without a terminal, a plain progress line every few seconds and each failure as it happens; nothing after the end', async () => {
    let text = '';
    const stream = { isTTY: false, write: (s: string) => (text += s) } as unknown as NodeJS.WriteStream;
    const reporter = terminalReporter(stream, 20);
    const cells = complete().cells;
    reporter.onBegin?.(cells.length);
    for (const c of cells.slice(0, 6)) reporter.onCell?.(c);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(plain(text)).toMatch(/^progress: 6\/12 cells \(50 %\) · 1 failed · \d+ s · about \d+ s left$/m);
    expect(plain(text)).toMatch(/^✗ go→ts\/insecure\/seeds\/b: /m);
    for (const c of cells.slice(6)) reporter.onCell?.(c);
    await reporter.onEnd(complete());
    const after = text.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(text.length).toBe(after);
  });

  it('on a terminal, one line redrawn in place with the same figures and the cell just done; failures stay above it', async () => {
    let text = '';
    const stream = { isTTY: true, columns: 200, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
    const reporter = terminalReporter(stream);
    const cells = complete().cells;
    reporter.onBegin?.(cells.length);
    for (const c of cells) {
      reporter.onCell?.(c);
      await new Promise((resolve) => setTimeout(resolve, 110));
    }
    const screen = plain(text);
    expect(screen).toMatch(/12\/12 cells \(100 %\) · 1 failed · \d+ s · python→go\/insecure\/seeds\/b/);
    expect(screen).toMatch(/✗ go→ts\/insecure\/seeds\/b: /);
    expect(screen).not.toMatch(/^progress:/m);
    await reporter.onEnd(complete());
  });

  it('grids do not count not-run cells as ok and say how many were not run', () => {
    const grid = gridsOf(interrupted())[0]!;
    expect(grid.entry('go', 'go')).toEqual({ ok: 1, total: 2, notRun: 1, worst: 'not_run' });
    expect(grid.entry('ts', 'go')).toEqual({ ok: 2, total: 2, notRun: 0, worst: 'known_failure' });
    const text = plain(renderGrids(interrupted()));
    expect(text).toMatch(/^go {2,}1\/2 {2,}1\/2 · 1 not run\s*$/m);
    expect(text).toMatch(/^python {2,}2\/2 {2,}0\/2 · 2 not run\s*$/m);
  });

  it('the failing cells are failures only, then one line for the cells not run', () => {
    const text = plain(renderFailures(interrupted()));
    expect(text).toMatch(/^1 failing cell:\n✗ go→ts\/insecure\/seeds\/b: expected 5 replies, got 4\n/);
    expect(text).not.toMatch(/go→go|python→go/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('3 cells not run');
    expect(plain(renderFailures(complete()))).not.toMatch(/not run/);
  });
});

describe('summary.md', () => {
  it('puts the INCOMPLETE banner right under the title', () => {
    const lines = renderMarkdown(interrupted()).split('\n');
    expect(lines[0]).toBe('# gRPC interop matrix');
    expect(lines[1]).toBe('');
    expect(lines[2]).toContain(`**${BANNER}**`);
    expect(renderMarkdown(complete())).not.toContain('INCOMPLETE');
  });

  it('shows not-run pairings grey with how many were not run, known failures yellow, and lists no not-run cell as failing', () => {
    const md = renderMarkdown(interrupted());
    expect(md).toContain('| **ts** | ✅ 2/2 | 🟡 2/2 |');
    expect(md).toContain('| **go** | ❌ 1/2 | ⚪ 1/2 · 1 not run |');
    expect(md).toContain('| **python** | 🟡 2/2 | ⚪ 0/2 · 2 not run |');
    const failing = md.slice(md.indexOf('## Failing'));
    expect(failing).toContain('`go→ts/insecure/seeds/b`');
    expect(failing).toContain('`python→ts/insecure/seeds/a`');
    expect(failing).not.toMatch(/go→go|python→go/);
    expect(md).toMatch(/^3 cells not run$/m);
  });

  it("gives each failing cell's log relative to summary.md's folder", () => {
    const { root, outDir } = repoWithLog();
    const file = writeMarkdown(outDir, interrupted(), root);
    const row = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('| `go→ts/insecure/seeds/b`'));
    const [, text, target] = row?.match(/\| \[([^\]]+)\]\(([^)]+)\) \|$/) ?? [];
    expect(target).toBeDefined();
    expect(decodeURI(target!)).toBe(text);
    expect(existsSync(resolve(dirname(file), text!))).toBe(true);
  });
});

const unescapeXml = (s: string) =>
  s.replace(/&#x([0-9A-F]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const attrsOf = (s: string) => Object.fromEntries([...s.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k!, unescapeXml(v!)]));

/** The testsuites of a JUnit XML text, each with its attributes and testcases (attributes, inner XML). */
function suitesOf(xml: string) {
  return [...xml.matchAll(/<testsuite ([^>]*)>([\s\S]*?)<\/testsuite>/g)].map(([, attrs, body]) => ({
    attrs: attrsOf(attrs!),
    cases: [...body!.matchAll(/<testcase ([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map(([, a, inner]) => ({ attrs: attrsOf(a!), inner: inner ?? '' })),
  }));
}

describe('junit.xml', () => {
  const junitOf = (results: Results) => readFileSync(writeJunit(tempDir('junit-'), results, tempDir('repo-')), 'utf8');

  it('not-run cells are skipped with their "not run:" message, failures fail, known failures are skipped', () => {
    const suites = suitesOf(junitOf(interrupted()));
    const testcase = (suite: string, name: string) => suites.find((s) => s.attrs.name === suite)?.cases.find((c) => c.attrs.name === name);
    const notRun = testcase('go→go/insecure/seeds', 'b')!;
    expect(notRun.inner).toMatch(/<skipped\/>/);
    expect(notRun.inner).toContain('not run: interrupted by SIGTERM');
    expect(notRun.inner).not.toMatch(/<failure|<error/);
    expect(testcase('python→go/insecure/seeds', 'a')!.inner).toMatch(/<skipped\/>/);
    expect(testcase('go→ts/insecure/seeds', 'b')!.inner).toMatch(/<failure message="expected 5 replies/);
    expect(testcase('ts→go/insecure/seeds', 'b')!.inner).toMatch(/<skipped\/>/);
    expect(suites.find((s) => s.attrs.name === 'python→go/insecure/seeds')!.attrs.skipped).toBe('2');
  });

  it('an incomplete run has a `matrix` suite whose `run complete` testcase errors with the incomplete line', () => {
    const xml = junitOf(interrupted());
    const matrix = suitesOf(xml).find((s) => s.attrs.name === 'matrix');
    expect(matrix?.attrs.errors).toBe('1');
    expect(matrix!.cases.map((c) => c.attrs.name)).toEqual(['run complete']);
    const error = matrix!.cases[0]!.inner.match(/<error ([^>]*)\/?>/)?.[1];
    expect(attrsOf(error!).message).toBe(BANNER);
    expect(attrsOf(xml.match(/<testsuites ([^>]*)>/)![1]!).errors).toBe('1');
    expect(suitesOf(junitOf(complete())).map((s) => s.attrs.name)).not.toContain('matrix');
  });

  it("writes a cell's log relative to junit.xml's folder", () => {
    const { root, outDir } = repoWithLog();
    const file = writeJunit(outDir, interrupted(), root);
    const failed = suitesOf(readFileSync(file, 'utf8')).find((s) => s.attrs.name === 'go→ts/insecure/seeds')!.cases.find((c) => c.attrs.name === 'b')!;
    const log = failed.inner.match(/log: ([^\]\n]+)/)?.[1];
    expect(log).toBeDefined();
    expect(existsSync(resolve(dirname(file), log!))).toBe(true);
  });
});

describe('report.html', () => {
  const html = renderHtml(interrupted(), (log) => `../${log}`);
  const firstHeat = () => {
    const start = html.indexOf('<table class="heat"');
    return html.slice(start, html.indexOf('</table>', start));
  };
  const tdOf = (key: string) => html.match(new RegExp(`<td[^>]*data-key="${key}"[^>]*>`))?.[0] ?? '';

  it('opens with a red INCOMPLETE banner; a complete run has none', () => {
    const body = html.slice(html.indexOf('<body>') + '<body>'.length).trimStart();
    expect(body).toMatch(new RegExp(`^<div class="banner"[^>]*>${BANNER}</div>`));
    expect(html).toMatch(/\.banner \{[^}]*background: #cf222e/);
    expect(renderHtml(complete(), (log) => log)).not.toContain('INCOMPLETE');
  });

  it('lists the failing and flaky cells with their reason and log above the first heat-map, and the not-run count apart', () => {
    const heat = html.indexOf('<table class="heat"');
    const start = html.indexOf('<table class="failing"');
    expect(start).toBeGreaterThan(-1);
    expect(heat).toBeGreaterThan(start);
    const failing = html.slice(start, html.indexOf('</table>', start));
    expect(failing).toContain('go→ts/insecure/seeds/b');
    expect(failing).toContain('expected 5 replies, got 4');
    expect(failing).not.toContain('second line of the trace');
    expect(failing).toContain(`href="../${LOG}"`);
    expect(failing).toContain('python→ts/insecure/seeds/a');
    expect(failing).not.toMatch(/go→go|python→go|ts→go/);
    expect(html.slice(0, heat)).toMatch(/3 cells not run/);
  });

  it('has clients in rows and servers in columns, keyed SUITE/CLIENT/SERVER', () => {
    const table = firstHeat();
    expect(table).toContain('<th class="corner">client ↓  server →</th>');
    expect([...table.matchAll(/<th class="row">([^<]*)<\/th>/g)].map((m) => m[1])).toEqual(['ts', 'go', 'python']);
    expect([...table.split('</tr>')[0]!.matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1])).toEqual(['ts', 'go']);
    expect(tdOf('seeds/python/ts')).toContain('python → ts');
  });

  it('colours a pairing by its worst status: green all passed, yellow known failures or flaky, red failures, grey not run', () => {
    expect(tdOf('seeds/ts/ts')).toContain('tone-green');
    expect(tdOf('seeds/ts/go')).toContain('tone-yellow');
    expect(tdOf('seeds/python/ts')).toContain('tone-yellow');
    expect(tdOf('seeds/go/ts')).toContain('tone-red');
    expect(tdOf('seeds/go/go')).toContain('tone-grey');
    expect(firstHeat()).toContain('0/2 · 2 not run');
    expect(html).toMatch(/<div class="legend">[^]*known failure/);
  });

  it('does not wrap the time column', () => {
    expect(html).toMatch(/td\.time[^{]*\{[^}]*white-space: nowrap/);
    expect(html).toContain('el("td", { class: "time" }');
  });
});

describe('writing reports', () => {
  const writers: [string, (outDir: string, results: Results, root: string) => string][] = [
    ['results.json', (outDir, results) => writeResultsJson(outDir, results)],
    ['junit.xml', writeJunit],
    ['summary.md', writeMarkdown],
    ['report.html', writeHtml],
  ];

  it('each report replaces its file with a whole new one instead of writing into it, and leaves no temporary file', () => {
    for (const [name, write] of writers) {
      const outDir = tempDir('atomic-');
      const before = join(tempDir('atomic-old-'), name);
      writeFileSync(join(outDir, name), 'the old report\n');
      linkSync(join(outDir, name), before); // the old file itself, whatever its name becomes
      write(outDir, interrupted(), outDir);
      expect([name, readFileSync(before, 'utf8')]).toEqual([name, 'the old report\n']);
      expect(readFileSync(join(outDir, name), 'utf8')).toContain('interrupted by SIGTERM');
      expect(readdirSync(outDir)).toEqual([name]);
    }
  });

  it('a report that cannot replace its target (a folder in its place) leaves the folder and no temporary file, and rethrows the error as it was', () => {
    for (const [name, write] of writers) {
      const outDir = tempDir('atomic-');
      mkdirSync(join(outDir, name));
      let error: NodeJS.ErrnoException | undefined;
      try {
        write(outDir, interrupted(), outDir);
      } catch (err) {
        error = err as NodeJS.ErrnoException;
      }
      expect([name, error?.code, error?.syscall]).toEqual([name, 'EISDIR', 'rename']);
      expect(error!.message).toMatch(/^EISDIR: illegal operation on a directory, rename /);
      expect(readdirSync(outDir)).toEqual([name]);
      expect(readdirSync(join(outDir, name))).toEqual([]);
    }
  });
});
