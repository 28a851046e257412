#!/usr/bin/env node
// Runs before `npm run matrix` and `npm test` so that a fresh clone needs no separate install
// step: when node_modules is missing or older than package-lock.json, it runs `npm ci`.
// Plain Node on purpose: nothing is installed yet when it runs (so no execa here).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'node_modules', '.lock-hash');
const hash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');

if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== hash) {
  console.error('installing npm dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('npm ci failed: see the output above (is the npm registry reachable?)');
    process.exit(2);
  }
  writeFileSync(stamp, `${hash}\n`);
}
