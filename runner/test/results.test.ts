import { classify, exitCodeOf, globToRegExp, type Results } from '../src/results.js';

const cell = { id: 'ts→go/tls/grpc.testing/server_compressed_unary', client: 'ts', server: 'go', transport: 'tls', suite: 'grpc.testing', case: 'server_compressed_unary' };

describe('known failures', () => {
  it('`*` matches within one segment only', () => {
    expect(globToRegExp('ts→*/*/grpc.testing/server_compressed_*').test(cell.id)).toBe(true);
    expect(globToRegExp('*/grpc.testing/*').test(cell.id)).toBe(false);
    expect(globToRegExp('**/server_compressed_unary').test(cell.id)).toBe(true);
    expect(globToRegExp('ts→go/tls/grpc.testing/server_compressed_unary').test('ts→go/tls/grpcXtesting/server_compressed_unary')).toBe(false);
  });

  it('`{a,b}` matches either alternative', () => {
    const re = globToRegExp('{ts,python}→go/{tls,mtls}/*/{client,server}_compressed_unary');
    expect(re.test(cell.id)).toBe(true);
    expect(re.test('go→go/tls/grpc.testing/server_compressed_unary')).toBe(false);
    expect(re.test('ts→go/insecure/grpc.testing/server_compressed_unary')).toBe(false);
  });

  it('alternatives may hold `*` themselves (picomatch), still within one segment', () => {
    const re = globToRegExp('ts→*/*/errors/{stream_then_error,code_*_bidi}');
    expect(re.test('ts→go/tls/errors/code_05_not_found_bidi')).toBe(true);
    expect(re.test('ts→go/tls/errors/stream_then_error')).toBe(true);
    expect(re.test('ts→go/tls/errors/code_05_not_found_unary')).toBe(false);
    expect(re.test('ts→go/tls/errors/code_05/x_bidi')).toBe(false);
  });

  it('a listed failure is known_failure; a listed pass is unexpected_pass and fails the run', () => {
    const known = [{ cell: 'ts→*/*/*/server_compressed_*', reason: 'grpc-js sends no compressed responses' }];
    expect(classify(cell, { passed: false, durationMs: 1, error: 'boom' }, known).status).toBe('known_failure');
    const pass = classify(cell, { passed: true, durationMs: 1 }, known);
    expect(pass.status).toBe('unexpected_pass');
    expect(pass.error).toMatch(/remove it from known_failures/);
    const results: Results = { schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells: [pass] };
    expect(exitCodeOf(results)).toBe(1);
  });

  it('a flaky entry with may_fail: failing every attempt is a known failure, a pass stays a pass; without it, a failure', () => {
    const flaky = [{ cell: 'ts→*/*/*/server_compressed_*', reason: 'a race', retries: 6, may_fail: true as const }];
    const lost = classify(cell, { passed: false, durationMs: 1, error: 'lost', attempts: 7 }, [], {}, flaky);
    expect(lost.status).toBe('known_failure');
    expect(lost.error).toBe('known flaky, failed all 7 attempts: a race — lost');
    expect(classify(cell, { passed: true, durationMs: 1, attempts: 2, firstError: 'lost' }, [], {}, flaky).status).toBe('flaky');
    expect(classify(cell, { passed: false, durationMs: 1, error: 'lost', attempts: 7 }, [], {}, [{ ...flaky[0]!, may_fail: undefined }]).status).toBe('failed');
  });

  it('an unlisted failure fails the run; passes do not', () => {
    const failed = classify(cell, { passed: false, durationMs: 1, error: 'x' }, []);
    const passed = classify(cell, { passed: true, durationMs: 1 }, []);
    expect(exitCodeOf({ schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells: [passed] })).toBe(0);
    expect(exitCodeOf({ schema: 1, startedAt: '', durationMs: 0, implementations: {}, cells: [passed, failed] })).toBe(1);
  });
});
