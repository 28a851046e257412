/**
 * The agent of a Docker launcher's container (runner/src/launcher/agent.ts) against a real
 * engine: peers started in the container through it get their arguments, input, output and
 * exit codes exactly; stop signals reach their process group; what a peer leaves behind is
 * killed; a container that goes away ends its peers and refuses new ones. Runs only when
 * DOCKER_BASE names a base image (as docker.test.ts; .ci/run sets it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Agent } from '../runner/src/launcher/agent.js';
import type { Peer } from '../runner/src/launcher/host.js';
import { StartError } from '../runner/src/launcher/launcher.js';

const base = process.env.DOCKER_BASE;
const describeDocker = base ? describe : describe.skip;
if (!base) process.stdout.write('agent.test.ts: skipped — set DOCKER_BASE (see .ci/run) to run the Docker agent tests\n');

/** Everything a peer prints, once it has ended. */
async function outputOf(peer: Peer): Promise<{ stdout: string; stderr: string; exitCode?: number; signal?: string }> {
  let stdout = '';
  let stderr = '';
  peer.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  peer.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ending = await peer.ended;
  return { stdout, stderr, ...ending };
}

describeDocker('the agent of a container', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'agent-test-'));
  const container = `grpc-interop-agent-test-${process.pid}`;
  let agent: Agent;
  let ids = 0;
  const id = () => `t${++ids}`;

  beforeAll(async () => {
    await execa('docker', ['run', '-d', '--rm', '--network', 'none', '-w', '/app', '--name', container, '-v', `${scratch}:${scratch}`, base!, 'sleep', 'infinity']);
    agent = Agent.start(container, join(scratch, 'peers'));
  }, 300_000);

  afterAll(async () => {
    await execa('docker', ['rm', '-f', container], { reject: false });
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it('passes every argument as it is, runs in /app, and reports the exit code and both outputs apart', async () => {
    const words = ['a b', "it's", '$HOME', '"q"', '', '*', 'ü ✓'];
    const peer = await agent.start(['sh', '-c', 'pwd; printf "<%s>\\n" "$@"; echo oops >&2; exit 3', 'sh', ...words], id(), false);
    expect(peer.where).toMatch(new RegExp(`^pid \\d+ in ${container}$`));
    expect(await outputOf(peer)).toEqual({ stdout: `/app\n${words.map((w) => `<${w}>`).join('\n')}\n`, stderr: 'oops\n', exitCode: 3 });
  });

  it('hands the peer its input, which ends when the runner ends it', async () => {
    const peer = await agent.start(['sh', '-c', 'while read -r line; do echo "got $line"; done; echo eof'], id(), true);
    peer.stdin!.write('one\ntwo\n');
    peer.stdin!.end();
    expect(await outputOf(peer)).toMatchObject({ stdout: 'got one\ngot two\neof\n', exitCode: 0 });
  });

  it('a peer that ignores SIGTERM ends on SIGKILL, reported as 128 + 9', async () => {
    const name = id();
    const peer = await agent.start(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 1; done'], name, false);
    const output = outputOf(peer);
    await new Promise<void>((resolve) => peer.stdout.once('data', () => resolve()));
    agent.kill(name, 'TERM', 'CONT');
    const early = await Promise.race([peer.ended.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('running'), 1500))]);
    expect(early).toBe('running');
    agent.kill(name, 'KILL');
    expect(await output).toMatchObject({ stdout: 'ready\n', exitCode: 137 });
  });

  it('what a peer leaves behind in its process group is killed when it exits, so its output ends', async () => {
    const peer = await agent.start(['sh', '-c', 'sleep 300 & echo started'], id(), false);
    expect(await outputOf(peer)).toMatchObject({ stdout: 'started\n', exitCode: 0 });
    const left = await execa('docker', ['exec', container, 'sh', '-c', 'for d in /proc/[0-9]*; do tr "\\0" " " < $d/cmdline 2>/dev/null; echo; done']);
    expect(left.stdout).not.toMatch(/sleep 300/);
  });

  it('a command that is not there exits 127 with the shell saying so', async () => {
    const peer = await agent.start(['build/no-such-peer', '--flag'], id(), false);
    const out = await outputOf(peer);
    expect(out.exitCode).toBe(127);
    expect(out.stderr).toMatch(/no-such-peer/);
  });

  it('a peer given up on (it outlived SIGKILL, or its container hangs) counts as killed at once', async () => {
    const name = id();
    const peer = await agent.start(['sleep', '300'], name, false);
    agent.abandon(name);
    expect(await peer.ended).toEqual({ signal: 'SIGKILL' });
  });

  it('when its container goes away, running peers end (killed) and new ones are refused with the reason', async () => {
    const peer = await agent.start(['sleep', '300'], id(), false);
    await execa('docker', ['kill', container]);
    expect(await peer.ended).toEqual({ signal: 'SIGKILL' });
    await expect(agent.start(['true'], id(), false)).rejects.toThrow(StartError);
    await expect(agent.start(['true'], id(), false)).rejects.toThrow(new RegExp(`the agent of container ${container} ended`));
  }, 60_000);
});
