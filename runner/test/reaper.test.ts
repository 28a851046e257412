/**
 * The reaper must run however the runner is loaded: from the build (the CLI) and from its
 * TypeScript sources (jest runs the self-test and the end-to-end suites in-process). Loaded
 * from the sources it once looked for `reaper.js` beside `children.ts`, found nothing and
 * silently ran without one, so killing a jest run left its servers behind for hours.
 */
import { execa } from 'execa';
import { startReaper, stopReaper, track } from '../src/launcher/children.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the reaper, with the runner loaded from its TypeScript sources', () => {
  it('kills a tracked process group once the runner lets go of its pipe', async () => {
    startReaper();
    const sleeper = execa('sleep', ['300'], { detached: true, reject: false, cleanup: false, stdio: 'ignore' });
    sleeper.unref();
    const pid = sleeper.pid!;
    track(pid);
    expect(alive(pid)).toBe(true);
    await stopReaper(); // as when the runner's process ends: the pipe closes, the reaper sweeps
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const survived = alive(pid);
    if (survived) process.kill(-pid, 'SIGKILL');
    expect(survived).toBe(false);
  }, 30_000);
});
