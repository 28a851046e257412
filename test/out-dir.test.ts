/**
 * An output folder that cannot take the reports — a read-only mount, a full disk, from the
 * start or filling up during the run — gives exit 2 and one line naming the folder and the
 * cause, never a stack trace, and no truncated results.json. Uses small tmpfs mounts, so it
 * runs as root (as CI does); elsewhere it is skipped, saying so.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { configFile, shClient, start, survivors, TS } from './helpers/cli.js';

const root = process.getuid?.() === 0;
const describeRoot = root ? describe : describe.skip;
if (!root) process.stdout.write('out-dir.test.ts: skipped — mounting a small tmpfs needs root\n');

const mounts: string[] = [];
async function tmpfs(options: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'outdir-'));
  await execa('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of mounts) await execa('umount', ['-l', dir], { reject: false });
});

/** No stack trace, exactly one `matrix:` line, and it says what to know. */
function expectOneLine(output: string, pattern: RegExp): void {
  expect(output).not.toMatch(/\n\s+at |setup failure/);
  const lines = output.split('\n').filter((l) => l.startsWith('matrix:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describeRoot('--out that cannot take the reports', () => {
  it('a read-only mount: exit 2 before anything runs, naming the folder and EROFS', async () => {
    const ro = await tmpfs('ro,size=1m');
    const { config } = configFile(TS);
    const out = join(ro, 'reports');
    const { run, tag } = start(config, out);
    const result = await run;
    expect(result.exitCode).toBe(2);
    expectOneLine(result.all ?? '', new RegExp(`^matrix: --out ${out}: cannot write there: EROFS \\(read-only file system\\)$`));
    expect(survivors(tag)).toEqual([]);
  }, 60_000);

  it('a disk that is full from the start: exit 2 before anything runs, naming ENOSPC', async () => {
    const full = await tmpfs('size=64k');
    const filler = join(full, 'filler');
    await execa('sh', ['-c', `head -c 1000000 /dev/zero > ${filler}`], { reject: false });
    const { config } = configFile(TS);
    const result = await start(config, join(full, 'reports')).run;
    expect(result.exitCode).toBe(2);
    expectOneLine(result.all ?? '', /^matrix: --out .*\/reports: cannot write there: ENOSPC \(no space left on device\)$/);
  }, 60_000);

  it('a disk that fills up during the run: the run ends, exit 2, one line saying the reports are lost; no truncated results.json', async () => {
    const small = await tmpfs('size=256k');
    // A client whose log fills the disk before the run writes its reports.
    const noisy = shClient('head -c 400000 /dev/zero | tr "\\\\0" x >&2; PASS');
    const { config } = configFile(`${TS}\n  noisy: {language: sh, library: none, batch: true, client: [sh, -c, '${noisy}', client]}`);
    const out = join(small, 'reports');
    mkdirSync(out);
    writeFileSync(join(out, 'results.json'), '{"old": true}\n');
    const { run, tag } = start(config, out);
    const result = await run;
    expect(result.exitCode).toBe(2);
    expectOneLine(result.all ?? '', new RegExp(`^matrix: cannot write the reports to ${out}: ENOSPC \\(no space left on device\\).*a report that is not there is lost`));
    // The terminal report itself is there: the grid and the counts.
    expect(result.all).toMatch(/4 cells: 4 passed/);
    // No half-written report: the old results.json is still whole, and no temporary file is left.
    expect(readdirSync(out).filter((f) => /\.tmp|~$/.test(f))).toEqual([]);
    expect(() => JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).not.toThrow();
    expect(survivors(tag)).toEqual([]);
  }, 60_000);
});
