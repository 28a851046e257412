/**
 * Deliberate misbehaviours, used only by the self-test to prove every case can fail.
 * docs/peer-contract.md describes each one; every server implements the same list.
 */
export const FAULTS = [
  'greeting-punctuation',
  'again-wrong',
  'service-wrong',
  'length-utf16',
  'length-bytes',
  'recommend-share-set',
  'recommend-no-validation',
  'random-constant',
  'panda-float64',
  'stream-truncate',
  'greetings-reversed',
  'bidi-buffered',
  'unary-every-10th-unavailable',
  'single-worker',
  'count-limit-low',
  'count-limit-none',
  'article-limit-low',
  'health-serving-any',
  'version-wrong',
  // The discovery suite: reflection (services/reflection.ts) and health (services/health.ts).
  'reflection-incomplete',
  'health-watch-silent',
  'health-services-not-serving',
  'health-watch-no-updates',
  'testing-empty-payload',
  'testing-aggregate-off',
  'testing-stream-drop-last',
  'testing-duplex-buffered',
  'testing-duplex-extra',
  'testing-no-echo-metadata',
  'testing-status-ignored',
  'testing-status-message-trimmed',
  'testing-implement-everything',
  'testing-empty-call-error',
  'testing-compression-unchecked',
  'testing-status-unknown',
  'testing-stream-status-ok',
  'testing-interval-ignored',
  // interop.scripted.Scripted (services/scripted.ts): each breaks one observable of the data suites.
  'scripted-status-unknown',
  'scripted-message-mangled',
  'scripted-details-dropped',
  'scripted-trailers-as-headers',
  'scripted-headers-dropped',
  'scripted-metadata-joined',
  'scripted-int64-double',
  'scripted-enum-shifted',
  'scripted-map-keys-off',
  'scripted-floats-flushed',
  'scripted-bytes-truncated',
  'scripted-strings-truncated',
  'scripted-presence-lost',
  'scripted-repeated-truncated',
  'scripted-replies-drop-last',
  'scripted-request-info-empty',
  // RequestInfo.peer is always ipv4:127.0.0.1:1; RequestInfo.authority is never set.
  'scripted-peer-ipv4',
  'scripted-authority-dropped',
  'scripted-read-all',
  'scripted-delay-ignored',
  // A no-op here: protobufjs 7 (under @grpc/proto-loader 0.8) keeps no unknown fields to drop.
  'scripted-unknown-dropped',
  // --max_receive_message_length / --max_send_message_length are ignored: any size passes.
  'scripted-limits-ignored',
  // The lifecycle flags (--max_concurrent_streams, --max_connection_age_ms, keepalive, …) are ignored.
  'scripted-lifecycle-ignored',
  // The scripted handler never looks at cancellation: it sends every reply and records "completed".
  'scripted-cancel-ignored',
  // restart_server_after_ms stops the server at once (forceShutdown): the calls in flight are cancelled.
  'scripted-shutdown-abrupt',
  // --second_host is ignored: the server listens on --host (and [::1], the Unix socket) only.
  'scripted-second-host-ignored',
] as const;

/**
 * Whole-process misbehaviours for the runner's own robustness tests (TS server only): they break
 * the server, not a case.
 */
export const PROCESS_FAULTS = [
  /** LotsOfReplies sends its first reply, then the process exits with code 70. */
  'crash-mid-stream',
  /** LotsOfReplies sends its first reply, then the process stops itself (SIGSTOP): it hangs. */
  'hang-mid-stream',
] as const;

export type Fault = (typeof FAULTS)[number] | (typeof PROCESS_FAULTS)[number];

export type Faults = ReadonlySet<Fault>;

export const NO_FAULTS: Faults = new Set();

/** Parses `a,b,c`; throws with the list of known faults on an unknown name. */
export function parseFaults(list: string): Faults {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const faults = new Set<Fault>();
  for (const name of names) {
    if (![...FAULTS, ...PROCESS_FAULTS].includes(name as Fault)) {
      throw new Error(`unknown fault "${name}"; known faults: ${[...FAULTS, ...PROCESS_FAULTS].join(', ')}`);
    }
    faults.add(name as Fault);
  }
  return faults;
}
