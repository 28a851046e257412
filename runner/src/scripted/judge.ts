/**
 * The assertions of the data suites, held once, here: what a case expects (its `expect`, with
 * what is left out derived from the server's script, and a library's own `by_client` /
 * `by_server` difference on top) against what a client observed.
 */
import type protobuf from 'protobufjs';
import type { Expectation, Instruction, PeerFamily, ScriptedCase } from './cases.js';
import { judgeRaw, rawObserved, resetWith } from './raw-view.js';
import { SCRIPTED } from './schema.js';
import { compareMessage, isObject, observedInteger, show, spaced, type Json } from './values.js';

export const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const codeName = (code: unknown): string =>
  typeof code === 'number' && CODE_NAMES[code] ? `${CODE_NAMES[code]} (${code})` : Number.isInteger(code) ? `${String(code)} (no gRPC status code)` : show(code);

type Obj = Record<string, Json>;

/** A script's metadata (`[{key, values, binary_values}]`) as an expectation: key → values. */
function metadataOf(entries: unknown): Record<string, Array<string | { hex: string }>> | undefined {
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const out: Record<string, Array<string | { hex: string }>> = {};
  for (const m of entries.filter(isObject)) {
    const key = String(m['key']).toLowerCase();
    const text = Array.isArray(m['values']) ? m['values'].map(String) : [];
    const bin = Array.isArray(m['binary_values']) ? m['binary_values'].map((b) => ({ hex: Buffer.from(String(b), 'base64').toString('hex') })) : [];
    (out[key] ??= []).push(...text, ...bin);
  }
  return out;
}

/** What the script implies the client observes (every member the case leaves out). */
export function derivedExpectation(c: ScriptedCase): Expectation {
  return derivedFrom(c.instruction);
}

/** What a call's script implies (the case's call, or a follow-up). */
function derivedFrom(instruction: Pick<Instruction, 'method' | 'metadata' | 'requests' | 'cancel_after_responses'>): Expectation {
  const requests = instruction.requests.filter(isObject);
  const script = isObject(requests[0]?.['script']) ? requests[0]['script'] : {};
  const code = typeof script['code'] === 'number' ? script['code'] : 0;
  const message = typeof script['message'] === 'string' ? script['message'] : '';
  const replies = (Array.isArray(script['replies']) ? script['replies'] : []).filter(isObject).map((r): Obj => {
    // fill_bytes: the server sets values.by to that many zero bytes.
    if (typeof r['fill_bytes'] === 'number' && r['fill_bytes'] > 0) return { values: filled(r['values'], r['fill_bytes']) };
    return r['values'] !== undefined ? { values: r['values'] } : {};
  });
  const streamingOut = instruction.method === 'ServerStream' || instruction.method === 'BidiStream';
  let responses = streamingOut ? replies : code === 0 ? [replies[0] ?? {}] : [];
  const cancel = instruction.cancel_after_responses;
  if (cancel !== undefined) {
    // The client cancels: what it saw until then, and no end of the server's script.
    return { status: { code: 1 }, responses: responses.slice(0, cancel) };
  }
  const out: Expectation = { status: { code, ...(code !== 0 || message !== '' ? { message } : {}) }, responses };
  const headers = metadataOf(script['headers']);
  if (headers) out.headers = headers;
  const trailers = metadataOf(script['trailers']);
  if (trailers) out.trailers = trailers;
  const details = Array.isArray(script['details']) ? script['details'] : [];
  if (details.length > 0) out.details = { code: typeof script['details_code'] === 'number' ? script['details_code'] : code, message, details };
  const sent = instruction.metadata.map((m) => ({ key: m.key, ...(typeof m.value === 'string' ? { values: [m.value] } : { binary_values: [Buffer.from(m.value.$bytes, 'hex').toString('base64')] }) }));
  const requestHeaders = metadataOf(sent);
  if (requestHeaders) out.request_headers = requestHeaders;
  const read = typeof script['read_requests'] === 'number' && !streamingOutOnly(instruction.method) ? script['read_requests'] : 0;
  const reads = read > 0 ? requests.slice(0, read) : requests;
  // `$fill_bytes`: the executor set values.by to that many zero bytes.
  out.request_values = reads.map((r) => (typeof r['$fill_bytes'] === 'number' ? filled(r['values'], r['$fill_bytes']) : isObject(r['values']) ? r['values'] : {}));
  return out;
}

/** `values` (a Values message in proto JSON, or nothing) with `by` set to `n` zero bytes, as `fill_bytes` and `$fill_bytes` make them. */
function filled(values: Json | undefined, n: number): Obj {
  return { ...(isObject(values) ? values : {}), by: Buffer.alloc(n).toString('base64') };
}

const streamingOutOnly = (method: string) => method === 'Unary' || method === 'ServerStream';

const DERIVED_ONLY_WITH_A_CALL: Array<keyof Expectation> = ['status', 'responses', 'headers', 'trailers', 'details', 'request_headers', 'request_values'];

/** The derived expectation under a call's own one (the derived members that need a call made are left out when it expects none). */
function combined(derived: Expectation, own: Expectation): Expectation {
  if (own.local_error !== undefined || own.refused || own.status_or_local_error !== undefined || own.no_request_info) {
    for (const key of DERIVED_ONLY_WITH_A_CALL) delete derived[key];
  }
  return { ...derived, ...own };
}

/** A pairing's expectations: of its cells, and of each follow-up. */
interface PairExpectations {
  cell: { expect: Expectation; because?: string };
  followups: Expectation[];
}

/**
 * What a (case, client, server) expects, worked out once: a run judges the same pairing's cells
 * over several transports and releases, and a large payload's expected bytes (zero-filled,
 * base64) would otherwise be built and converted again for every cell.
 */
const perCase = new WeakMap<ScriptedCase, Map<string, PairExpectations>>();

function expectationsOf(c: ScriptedCase, client: string, server: string): PairExpectations {
  let pairs = perCase.get(c);
  if (!pairs) perCase.set(c, (pairs = new Map()));
  const key = `${client}→${server}`;
  let found = pairs.get(key);
  if (!found) pairs.set(key, (found = { cell: cellExpectation(c, client, server), followups: followupsOf(c, client, server) }));
  return found;
}

/** The expectation of one cell: derived, then the case's own, then the server's and the client's differences (not to be changed: it is shared by the pairing's cells). */
export function expectationFor(c: ScriptedCase, client: string, server: string): { expect: Expectation; because?: string } {
  return expectationsOf(c, client, server).cell;
}

function cellExpectation(c: ScriptedCase, client: string, server: string): { expect: Expectation; because?: string } {
  const pair = c.byPair[`${client}→${server}`];
  const own: Expectation = { ...c.expect, ...c.byServer[server]?.expect, ...c.byClient[client]?.expect, ...pair?.expect };
  const override = pair ?? c.byClient[client] ?? c.byServer[server];
  // The raw client sends no script (its frames are the case's): nothing to derive.
  return { expect: c.raw === 'client' ? own : combined(derivedExpectation(c), own), ...(override ? { because: override.reason } : {}) };
}

/** The expectation of each follow-up of one cell, the same way. */
export function followupExpectations(c: ScriptedCase, client: string, server: string): Expectation[] {
  return expectationsOf(c, client, server).followups;
}

function followupsOf(c: ScriptedCase, client: string, server: string): Expectation[] {
  return c.followups.map((f, i) => combined(derivedFrom(f.instruction), { ...f.expect, ...c.byServer[server]?.followups?.[i], ...c.byClient[client]?.followups?.[i], ...c.byPair[`${client}→${server}`]?.followups?.[i] }));
}

type Pairs = Array<[string, Json]>;

/** The values of `key` in a library's metadata list `[[key, value], …]`. */
const valuesOf = (pairs: unknown, key: string): Json[] => (Array.isArray(pairs) ? (pairs as Pairs).filter((p) => Array.isArray(p) && String(p[0]).toLowerCase() === key).map((p) => p[1]) : []);

function sameMetadataValue(want: string | { hex: string }, got: Json): boolean {
  if (typeof want === 'string') return got === want;
  return isObject(got) && typeof got['$bytes'] === 'string' && got['$bytes'].toLowerCase() === want.hex.toLowerCase();
}

const showWant = (v: string | { hex: string }): string => (typeof v === 'string' ? JSON.stringify(v) : spaced(v.hex));
const showGot = (v: Json): string => (isObject(v) && typeof v['$bytes'] === 'string' ? spaced(v['$bytes']) : JSON.stringify(v));

/**
 * Several text values of one key may arrive joined into one, separated by "," (with optional
 * whitespace): grpc/grpc doc/PROTOCOL-HTTP2.md allows it ("Duplicate header names may have
 * their values joined with "," as the delimiter and be considered semantically equivalent"),
 * and Node's http2 (so grpc-js) does it. Binary values may not be joined.
 */
function joinedEquivalent(values: Array<string | { hex: string }>, seen: Json[]): boolean {
  if (values.length < 2 || seen.length !== 1 || typeof seen[0] !== 'string' || !values.every((v) => typeof v === 'string')) return false;
  return seen[0] === values.join(', ') || seen[0] === values.join(',');
}

function compareMetadata(where: string, want: Record<string, Array<string | { hex: string }>> | undefined, absent: string[] | undefined, got: (key: string) => Json[], problems: string[]): void {
  for (const [key, values] of Object.entries(want ?? {})) {
    const seen = got(key.toLowerCase());
    if (joinedEquivalent(values, seen)) continue;
    if (seen.length !== values.length || values.some((v, i) => !sameMetadataValue(v, seen[i]!))) {
      problems.push(`${where} ${key}: expected [${values.map(showWant).join(', ')}], got ${seen.length === 0 ? 'none' : `[${seen.map(showGot).join(', ')}]`}`);
    }
  }
  for (const key of absent ?? []) {
    const seen = got(key.toLowerCase());
    if (seen.length > 0) problems.push(`${where} ${key}: expected none, got [${seen.map(showGot).join(', ')}]`);
  }
}

/** The metadata of RequestInfo (`[{key, values, binary_values}]`, as reported) for one key. */
function requestMetadata(info: Obj, key: string): Json[] {
  const headers = Array.isArray(info['headers']) ? info['headers'].filter(isObject) : [];
  return headers
    .filter((m) => String(m['key']).toLowerCase() === key)
    .flatMap((m) => [...(Array.isArray(m['values']) ? m['values'] : []), ...(Array.isArray(m['binary_values']) ? m['binary_values'] : [])]);
}

/** A network's own expectation (matrix.yaml `networks.NAME.expect`): the status codes every call on it must end with. */
export interface NetworkExpectation {
  codes: number[];
  reason: string;
}

/** Judges one scripted cell: undefined when the observation meets the expectation, else why not. */
export function judgeScripted(root: protobuf.Root, c: ScriptedCase, observed: unknown, client: string, server: string, network?: NetworkExpectation): string | undefined {
  const reported = isObject(observed) ? observed : {};
  // The raw client reports the wire (`raw`): judged as a gRPC client reads it.
  const o = isObject(reported['raw']) ? rawObserved(root, reported['raw']) : reported;
  if (network) {
    // Only the end matters on a network that breaks calls: one of its codes, never a success or a local error.
    const problems = judgeAgainst(root, { status: { code: network.codes } }, o);
    return problems.length === 0 ? undefined : `${c.file}: ${problems.join('; ')} (on this network: ${network.reason})`;
  }
  const { expect: e, because } = expectationFor(c, client, server);
  const problems = judgeAgainst(root, e, o);
  // `concurrent`: every other call must meet the same expectation.
  const others = Array.isArray(o['concurrent']) ? o['concurrent'] : [];
  const wantOthers = (c.instruction.concurrent ?? 1) - 1;
  if (others.length !== wantOthers) problems.push(`concurrent calls: expected ${wantOthers} more reported, got ${others.length}`);
  others.forEach((other, i) => problems.push(...judgeAgainst(root, e, isObject(other) ? other : {}).map((p) => `concurrent call ${i + 2}: ${p}`)));
  // `followups`: each with its own expectation; new_connection compares its peer with the first call's.
  const followups = Array.isArray(o['followups']) ? o['followups'] : [];
  if (followups.length !== c.followups.length) problems.push(`follow-ups: expected ${c.followups.length} reported, got ${followups.length}`);
  followupExpectations(c, client, server).forEach((fe, i) => {
    const f = isObject(followups[i]) ? (followups[i] as Obj) : undefined;
    if (!f) return;
    const at = `follow-up ${i + 1}`;
    problems.push(...judgeAgainst(root, fe, f).map((p) => `${at}: ${p}`));
    if (fe.new_connection !== undefined) {
      const first = peerOf(requestInfoOf(o));
      const next = peerOf(requestInfoOf(f));
      if (first === undefined || next === undefined) problems.push(`${at}: cannot tell the connection: the server reported no client address (first call ${first ?? 'none'}, follow-up ${next ?? 'none'})`);
      else if ((first !== next) !== fe.new_connection) problems.push(`${at}: expected ${fe.new_connection ? 'a new connection' : 'the same connection'} as the first call, but the server saw the client at ${JSON.stringify(first)} then ${JSON.stringify(next)}`);
    }
  });
  if (c.connections) problems.push(...judgeConnections(c.connections, [o, ...followups.map((f) => (isObject(f) ? (f as Obj) : {}))]));
  if (problems.length === 0) return undefined;
  const shown = problems.slice(0, 8);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
  return `${c.file}: ${shown.join('; ')}${because ? ` (this cell's expectation differs: ${because})` : ''}`;
}

/** Case `connections`: the client addresses the server saw over the calls of one channel (one per connection), counted. */
function judgeConnections(want: { count: number; min_calls_each: number }, calls: Obj[]): string[] {
  const peers = calls.map((call) => peerOf(requestInfoOf(call)));
  const missing = peers.flatMap((p, i) => (p === undefined ? [i === 0 ? 'the first call' : `follow-up ${i}`] : []));
  if (missing.length > 0) return [`cannot count the connections: the server reported no client address for ${missing.join(', ')}`];
  const perPeer = new Map<string, number>();
  for (const p of peers as string[]) perPeer.set(p, (perPeer.get(p) ?? 0) + 1);
  const seen = [...perPeer].map(([p, n]) => `${p} ×${n}`).join(', ');
  if (perPeer.size !== want.count) return [`expected the ${calls.length} calls over ${want.count} connection${want.count === 1 ? '' : 's'}, but the server saw the client at ${perPeer.size} address${perPeer.size === 1 ? '' : 'es'}: ${seen}`];
  const few = [...perPeer].filter(([, n]) => n < want.min_calls_each);
  if (few.length > 0) return [`expected each of the ${want.count} connections to carry at least ${want.min_calls_each} of the ${calls.length} calls, but the server saw ${seen}`];
  return [];
}

function judgeAgainst(root: protobuf.Root, e: Expectation, o: Obj): string[] {
  const problems: string[] = [];
  const local = typeof o['local_error'] === 'string' ? o['local_error'] : undefined;
  if (e.local_error !== undefined) {
    if (local === undefined) return [`expected the library to refuse the call before sending it, but it made the call and got status ${codeName(isObject(o['status']) ? o['status']['code'] : undefined)}`];
    if (typeof e.local_error === 'string' && !local.includes(e.local_error)) return [`expected a local error containing ${JSON.stringify(e.local_error)}, got ${JSON.stringify(local)}`];
    return [];
  }
  if (e.refused) {
    if (local !== undefined) return [];
    const status = isObject(o['status']) ? o['status'] : undefined;
    if (status && status['code'] !== 0 && o['request_info'] === undefined) return [];
    const info = isObject(o['request_info']) ? ` (the server received it: ${show(o['request_info'])})` : '';
    return [`expected the library to refuse the call, but it was made: status ${codeName(status?.['code'])}${status ? ` ${JSON.stringify(status['message'] ?? '')}` : ''}${info}`];
  }
  if (local !== undefined) {
    if (e.status_or_local_error) return [];
    return [`the library raised before the call had a status: ${local}`];
  }
  const status = isObject(o['status']) ? o['status'] : undefined;
  const wantStatus = e.status ?? e.status_or_local_error;
  if (wantStatus && !(e.raw?.instead_rst_stream && resetWith(e.raw.instead_rst_stream, isObject(o['raw']) ? o['raw'] : {}))) {
    const codes = Array.isArray(wantStatus.code) ? wantStatus.code : [wantStatus.code];
    const wanted = codes.map(codeName).join(' or ');
    if (!status) problems.push(`status: expected ${wanted}, got no status`);
    else if (!codes.includes(status['code'] as number)) problems.push(`status: expected ${wanted}, got ${codeName(status['code'])} ${JSON.stringify(status['message'] ?? '')}`);
    else if (wantStatus.message !== undefined && status['message'] !== wantStatus.message) problems.push(`status message: expected ${JSON.stringify(wantStatus.message)}, got ${show(status['message'])}`);
  }
  if (e.raw) problems.push(...judgeRaw(e.raw, isObject(o['raw']) ? o['raw'] : {}));
  const received = Array.isArray(o['responses']) ? o['responses'] : [];
  const responses = received.map((r) => {
    if (!isObject(r)) return r;
    const { request_info: _info, ...rest } = r;
    return rest;
  });
  if (e.responses) {
    const got = responses;
    if (got.length !== e.responses.length) problems.push(`responses: expected ${e.responses.length}, got ${got.length}`);
    else e.responses.forEach((r, i) => problems.push(...compareMessage(root, `${SCRIPTED}.ScriptedResponse`, r, got[i], `responses[${i}]`).map((d) => `${d.path}: ${d.text}`)));
  }
  compareMetadata('header', e.headers, e.headers_absent, (k) => valuesOf(o['headers'], k), problems);
  compareMetadata('trailer', e.trailers, e.trailers_absent, (k) => valuesOf(o['trailers'], k), problems);
  if (e.details !== undefined) {
    const got = isObject(o['details']) ? o['details'] : undefined;
    if (e.details === null) {
      if (got) problems.push(`details: expected none, got ${show(got)}`);
    } else if ('error' in e.details && e.details['error'] === true) {
      if (!got || typeof got['error'] !== 'string') problems.push(`details: expected the library to refuse them, got ${show(got)}`);
    } else if (!got) {
      problems.push('details: expected grpc-status-details-bin, got none');
    } else if (typeof got['error'] === 'string') {
      problems.push(`details: the library refused them: ${got['error']}`);
    } else {
      problems.push(...compareMessage(root, 'google.rpc.Status', e.details, got['status'], 'details').map((d) => `${d.path}: ${d.text}`));
    }
  }
  const info = requestInfoOf(o);
  if (e.no_request_info) {
    if (info !== undefined) problems.push(`request info: expected none (the handler should not have finished), got ${show(info)}`);
  } else if (e.request_headers || e.request_headers_absent || e.request_values || e.request_timeout_ms || e.request_peer || e.request_authority || e.request_active_calls || e.reported_call) {
    if (!isObject(info)) problems.push('request info: none (neither in the last response nor in the x-scripted-request-info-bin trailer)');
    else if (typeof info['error'] === 'string') problems.push(`request info: ${info['error']}`);
    else {
      compareMetadata('request header (as the server saw it)', e.request_headers, e.request_headers_absent, (k) => requestMetadata(info, k), problems);
      if (e.request_values) {
        const got = (Array.isArray(info['requests']) ? info['requests'] : []).map((r) => (isObject(r) ? r['values'] : undefined));
        if (got.length !== e.request_values.length) problems.push(`requests the server read: expected ${e.request_values.length}, got ${got.length}`);
        else e.request_values.forEach((v, i) => problems.push(...compareMessage(root, `${SCRIPTED}.Values`, v, got[i], `request[${i}].values (as the server read it)`).map((d) => `${d.path}: ${d.text}`)));
      }
      if (e.request_timeout_ms) {
        const t = observedInteger(info['timeout_ms'] ?? '0');
        const { min, max } = e.request_timeout_ms;
        if (t === undefined || t < BigInt(min) || t > BigInt(max)) problems.push(`request timeout (as the server saw it): expected ${min}..${max} ms, got ${show(info['timeout_ms'])}`);
      }
      if (e.request_peer) {
        const peer = typeof info['peer'] === 'string' ? info['peer'] : undefined;
        const family = peer === undefined ? undefined : peerFamily(peer);
        if (family !== e.request_peer) {
          const got = peer === undefined ? 'no peer' : `${JSON.stringify(peer)} (${family ?? 'no loopback address the runner knows'})`;
          problems.push(`client address (as the server saw it): expected ${e.request_peer}, got ${got}`);
        }
      }
      if (e.request_authority) {
        const got = typeof info['authority'] === 'string' ? info['authority'] : undefined;
        if (got === undefined || !authorityPattern(e.request_authority).test(got)) problems.push(`:authority (as the server saw it): expected ${JSON.stringify(e.request_authority)}, got ${got === undefined ? 'none' : JSON.stringify(got)}`);
      }
      if (e.request_active_calls) {
        const n = observedInteger(info['active_calls'] ?? '0');
        const { min, max } = e.request_active_calls;
        if (n === undefined || (min !== undefined && n < BigInt(min)) || (max !== undefined && n > BigInt(max))) {
          problems.push(`calls the server was handling when this one started (active_calls): expected ${min ?? 0}..${max ?? 'any'}, got ${String(n ?? show(info['active_calls']))}`);
        }
      }
      if (e.reported_call) {
        const record = isObject(info['reported_call']) ? info['reported_call'] : undefined;
        const ends = Array.isArray(e.reported_call.ended) ? e.reported_call.ended : [e.reported_call.ended];
        const ended = typeof record?.['ended'] === 'string' ? record['ended'] : undefined;
        const sent = observedInteger(record?.['replies_sent'] ?? '0');
        if (!record) problems.push('the earlier call as the server saw it (reported_call): none reported');
        else if (ended === undefined || !(ends as string[]).includes(ended)) problems.push(`the earlier call as the server saw it: expected it ${ends.join(' or ')}, got ${show(record['ended'])}`);
        const bounds = e.reported_call.replies_sent;
        if (record && bounds && (sent === undefined || (bounds.min !== undefined && sent < BigInt(bounds.min)) || (bounds.max !== undefined && sent > BigInt(bounds.max)))) {
          problems.push(`the earlier call as the server saw it: expected ${bounds.min ?? 0}..${bounds.max ?? 'any'} replies sent before it stopped, got ${JSON.stringify(record['replies_sent'] ?? 0)}`);
        }
      }
    }
  }
  return problems;
}

/** RequestInfo: in the last response of a call that ended OK, else in the trailer. */
function requestInfoOf(o: Obj): Json | undefined {
  const received = Array.isArray(o['responses']) ? o['responses'] : [];
  const last = received[received.length - 1];
  return isObject(last) && isObject(last['request_info']) ? last['request_info'] : o['request_info'];
}

/** RequestInfo.peer, when the server reported one. */
const peerOf = (info: Json | undefined): string | undefined => (isObject(info) && typeof info['peer'] === 'string' && info['peer'] !== '' ? info['peer'] : undefined);

/**
 * The family of a client's address as a server library names it (docs/peer-contract.md,
 * RequestInfo.peer): grpcio `ipv4:127.0.0.1:5555`, `ipv6:%5B::1%5D:5555`, `unix:…`; grpc-go
 * `tcp:127.0.0.1:5555`, `tcp:[::1]:5555`, `unix:…`; grpc-js `127.0.0.1:5555`, `::1:5555` or
 * `[::1]:5555`, and `unknown` when its socket has no remote address (a Unix socket). An IPv4 address mapped into IPv6 (`::ffff:127.0.0.1`) is IPv4. Undefined: not a
 * loopback address of a family the runner knows.
 */
export function peerFamily(peer: string): PeerFamily | undefined {
  if (peer === 'unknown') return 'unknown';
  if (/^unix(-abstract)?:/.test(peer)) return 'unix';
  let address: string;
  try {
    address = decodeURIComponent(peer);
  } catch {
    return undefined;
  }
  address = address.replace(/^(ipv4|ipv6|tcp|tcp4|tcp6):/, '');
  if (/^\[?(::ffff:)?127(\.\d{1,3}){3}\]?:\d+$/i.test(address)) return 'ipv4';
  if (/^\[?::1\]?:\d+$/.test(address)) return 'ipv6';
  return undefined;
}

/** An expected :authority as a pattern: `{port}` stands for any port number. */
const authorityPattern = (want: string): RegExp => new RegExp(`^${want.split('{port}').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\d+')}$`);
