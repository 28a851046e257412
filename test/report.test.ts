/**
 * report.html opens in headless Chromium (Debian's chromium) with no console message at all,
 * and a screenshot of it is written to reports/report.png. Skipped, saying so, where no
 * Chromium is installed (.ci/run installs it when it can).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const describeChromium = chromium ? describe : describe.skip;
if (!chromium) process.stdout.write('report.test.ts: skipped — no Chromium (Debian: apt-get install chromium)\n');

describeChromium('report.html', () => {
  let out: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'report-'));
    // A run with every kind of outcome: passes, known failures (grpc-js compression), failures (a server fault).
    await execa('node', ['build/ts/runner/src/cli.js', '--clients', 'ts,python,go', '--servers', 'ts,python,go', '--transports', 'insecure', '--server-fault', 'stream-truncate', '--out', out], { cwd: root, reject: false });
  }, 300_000);

  it('is one self-contained page holding every cell', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="https?:/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { cells: unknown[] };
    expect(html.match(/"id":"/g)).toHaveLength(results.cells.length);
  });

  /** report.html#open=grpc.testing/python/ts (client python, server ts) in headless Chromium, doing ACTION. */
  const chromiumOn = (action: string[]) =>
    execa(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'chromium-'))}`,
      '--enable-logging=stderr', '--v=0', '--hide-scrollbars', '--window-size=1280,1600', ...action,
      `${pathToFileURL(join(out, 'report.html')).href}#open=${encodeURIComponent('grpc.testing/python/ts')}`,
    ], { reject: false, all: true, timeout: 120_000 });

  it('opens in headless Chromium with no console message, and is screenshotted to reports/report.png', async () => {
    const png = join(root, 'reports', 'report.png');
    mkdirSync(join(root, 'reports'), { recursive: true });
    const run = await chromiumOn([`--screenshot=${png}`]);
    const consoleLines = (run.all ?? '').split('\n').filter((l) => /CONSOLE|Uncaught/.test(l));
    expect(consoleLines).toEqual([]);
    expect(statSync(png).size).toBeGreaterThan(10_000);
  }, 180_000);

  it('#open=SUITE/CLIENT/SERVER opens that pairing, below the failing cells', async () => {
    const dom = (await chromiumOn(['--dump-dom'])).stdout;
    expect(dom).toMatch(/<td class="tone-\w+ open" data-key="grpc\.testing\/python\/ts"/);
    expect(dom).toContain('<strong>python → ts / grpc.testing</strong>');
    expect(dom.indexOf('<table class="failing">')).toBeGreaterThan(-1);
    expect(dom.indexOf('<table class="failing">')).toBeLessThan(dom.indexOf('<table class="heat">'));
  }, 180_000);
});
