#!/usr/bin/env node
/**
 * The reaper: cleanup that does not depend on the runner living long enough to run it (the
 * model is testcontainers' Ryuk). The runner starts it first, in a session of its own, and
 * holds the write end of its stdin for as long as it lives. Over that pipe the runner names
 * what it starts: `+PID` a process group, `-PID` a group that is gone, `docker PROJECT` a
 * Compose project. When the pipe reaches end of file — the runner exited, normally or killed by
 * any signal, SIGKILL included, alone or with its whole process group — the reaper kills every
 * group still named, every process that carries the run's tag in its environment
 * (GRPC_INTEROP_RUN=ID, inherited by everything the runner starts, so also grandchildren that
 * left their group), and removes every container of the named Compose projects. Then it exits.
 *
 *   node reaper.js RUN_ID
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { RUN_TAG } from './launcher/children.js';
import { lines } from './launcher/output.js';

const groups = new Set<number>();
const projects = new Set<string>();

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Processes other than this one whose environment carries `tag`. */
function tagged(tag: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(tag)) found.push(pid);
    } catch {
      // gone meanwhile, or another user's
    }
  }
  return found;
}

/**
 * The Docker daemon finishes creating a container even when the `docker compose` that asked for
 * it was killed, and with the vfs storage driver creating one took up to 49 s here (longer under
 * load). So the reaper keeps looking until the project has had no container for a whole minute
 * (10 minutes at most), removing whatever shows up meanwhile.
 */
const QUIET_MS = 60_000;
const REMOVE_FOR_AT_MOST_MS = 600_000;

async function removeContainers(project: string): Promise<void> {
  const started = Date.now();
  let emptySince: number | undefined;
  for (let round = 0; Date.now() - started < REMOVE_FOR_AT_MOST_MS; round++) {
    const ps = await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`], { reject: false, stdin: 'ignore' });
    const ids = ps.failed ? [] : ps.stdout.split('\n').filter((id) => id !== '');
    if (ids.length > 0) {
      emptySince = undefined;
      await execa('docker', ['rm', '-f', ...ids], { reject: false, stdin: 'ignore' });
    } else {
      emptySince ??= Date.now();
      if (Date.now() - emptySince >= QUIET_MS) return;
    }
    await delay(round < 8 ? 250 : 1000);
  }
}

async function reap(runId: string): Promise<void> {
  for (const pid of groups) kill(-pid);
  const tag = `${RUN_TAG}=${runId}`;
  // Killing a parent can make a child fork or re-exec once more: look until a round finds none.
  for (let round = 0; round < 10; round++) {
    const left = tagged(tag);
    if (left.length === 0) break;
    left.forEach(kill);
    await delay(50);
  }
  await Promise.all([...projects].map(removeContainers));
}

function main(): void {
  const runId = process.argv[2];
  if (!runId) {
    process.stderr.write('usage: reaper.js RUN_ID (started by the matrix runner)\n');
    process.exit(2);
  }
  process.stdin.on(
    'data',
    lines((line) => {
      if (line.startsWith('+')) groups.add(Number(line.slice(1)));
      else if (line.startsWith('-')) groups.delete(Number(line.slice(1)));
      else if (line.startsWith('docker ')) projects.add(line.slice('docker '.length));
    }),
  );
  // End of file: the runner is gone, whatever ended it.
  let reaping = false;
  const onEnd = () => {
    if (reaping) return;
    reaping = true;
    void reap(runId).finally(() => process.exit(0));
  };
  process.stdin.on('end', onEnd);
  process.stdin.on('close', onEnd);
  process.stdin.on('error', onEnd);
}

main();
