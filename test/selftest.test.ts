/**
 * SPEC §4: every case can fail. Each server fault must turn the cases meant to catch it red,
 * for every client against every server.
 */
import { join } from 'node:path';
import { repoRoot } from '../ts-common/src/paths.js';
import { loadMatrix } from '../runner/src/config.js';
import { renderSelfTest, runSelfTest, selfTestPassed, selfTestPeers, type SelfTestReport } from '../runner/src/selftest.js';

describe('self-test: every case of every suite fails against a fault', () => {
  let report: SelfTestReport;

  beforeAll(async () => {
    report = await runSelfTest();
    process.stdout.write(renderSelfTest(report));
  }, 1_500_000);

  it('every case is meant to be broken by at least one fault', () => {
    expect(report.uncovered).toEqual([]);
  });

  it('every (case, fault) pair is detected by every client against every server, known failures aside', () => {
    expect(report.faults.filter((f) => f.missed.length > 0).map((f) => `${f.fault}: ${f.missed.join(', ')}`)).toEqual([]);
    expect(report.pairsDetected).toBe(report.pairsExpected);
    expect(selfTestPassed(report)).toBe(true);
  });
});

describe('self-test of the self-test: a client that checks nothing is caught', () => {
  let report: SelfTestReport;
  // The clients of each suite that take part in the self-test (seeds has the C++ client too).
  const matrix = loadMatrix(join(repoRoot(), 'matrix.yaml'));
  const clientsOf = (suite: string) => selfTestPeers(matrix).filter((p) => matrix.implementations[p]?.client && (matrix.suites[suite]?.clients ?? [p]).includes(p));

  beforeAll(async () => {
    // Every server fault of two suites, with every client run with --client_fault=no-checks.
    report = await runSelfTest({ suites: ['seeds', 'testing-edges'], clientFault: 'no-checks' });
  }, 1_500_000);

  it('every fault a client must catch is missed by each client that checks nothing, so the self-test fails', () => {
    const clientJudged = report.faults.filter((f) => !RUNNER_JUDGED.has(f.fault));
    expect(clientJudged.length).toBeGreaterThan(15);
    for (const run of clientJudged) {
      const missedBy = new Set(run.missed.map((id) => id.split('→')[0]));
      expect(`${run.fault}: ${[...missedBy].sort().join(',')}`).toBe(`${run.fault}: ${clientsOf(run.suite).sort().join(',')}`);
    }
    expect(selfTestPassed(report)).toBe(false);
  });

  it('what the runner judges is caught all the same: a wrong library version fails even against a client that checks nothing', () => {
    const version = report.faults.find((f) => f.fault === 'version-wrong');
    expect(version).toMatchObject({ missed: [], detectedCases: ['server_info_version'] });
  });
});

/** Faults caught by a check the runner holds (runner_checks in matrix.yaml), not by the client. */
const RUNNER_JUDGED = new Set(['version-wrong']);
