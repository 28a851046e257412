/**
 * Cell patterns (known_failures, flaky): `client→server/transport/suite/case` globs (`*` within
 * a segment, `**` across segments, `{a,b}` alternatives, through picomatch), where the client
 * and the server may name a library version or a semver range: `ts@<1.10.10→go/…`,
 * `python@1.62.x→ts/tls/…`. A side without `@` matches every version of the implementation.
 */
import picomatch from 'picomatch';
import semver from 'semver';

/** Per implementation (a release other than the default is `name@version`): its base name and library version. */
export type VersionTable = Readonly<Record<string, { base: string; version?: string }>>;

const compiled = new Map<string, RegExp>();

/** A cell-id glob as a RegExp (compiled once per pattern: every cell meets every pattern). */
export function globToRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = picomatch.makeRe(pattern, { dot: true, nonegate: true, noext: true });
    compiled.set(pattern, re);
  }
  return re;
}

interface Side {
  name: string;
  range?: string;
}

/** `name@version` → its base name and version (the form of release names, cell ids and pattern sides). */
export function splitRelease(text: string): { base: string; version?: string } {
  const at = text.indexOf('@');
  return at < 0 ? { base: text } : { base: text.slice(0, at), version: text.slice(at + 1) };
}

/** `name@range` → its glob and range; `name` → every version. */
export function parseSide(text: string): Side {
  const { base, version } = splitRelease(text);
  return version === undefined ? { name: base } : { name: base, range: version };
}

/** Splits `client→server/rest` (undefined when the text has no such shape). */
function split(text: string): { client: string; server: string; rest: string } | undefined {
  const arrow = text.indexOf('→');
  if (arrow < 0) return undefined;
  const slash = text.indexOf('/', arrow);
  if (slash < 0) return undefined;
  return { client: text.slice(0, arrow), server: text.slice(arrow + 1, slash), rest: text.slice(slash + 1) };
}

/** An id's side: its implementation's base name and library version. */
function idSide(text: string, versions: VersionTable): { base: string; version?: string } {
  return versions[text] ?? splitRelease(text);
}

/** A pattern, parsed once: its sides and the rest, or (for a `**` across sides) one glob. */
type Compiled = { spanning: RegExp } | { client: Side; server: Side; rest: RegExp };

const parsed = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  let c = parsed.get(pattern);
  if (!c) {
    const p = split(pattern);
    c = !p || p.client.includes('**') || p.server.includes('**') ? { spanning: globToRegExp(pattern) } : { client: parseSide(p.client), server: parseSide(p.server), rest: globToRegExp(p.rest) };
    parsed.set(pattern, c);
  }
  return c;
}

/** semver.satisfies, remembered: every cell id meets every pattern, with a handful of releases. */
const satisfied = new Map<string, boolean>();

function inRange(version: string, range: string): boolean {
  const key = `${version} ${range}`;
  let yes = satisfied.get(key);
  if (yes === undefined) {
    yes = semver.valid(version) !== null && semver.satisfies(version, range, { includePrerelease: true });
    satisfied.set(key, yes);
  }
  return yes;
}

function sideMatches(pattern: Side, id: { base: string; version?: string }): boolean {
  if (!globToRegExp(pattern.name).test(id.base)) return false;
  return pattern.range === undefined || (id.version !== undefined && inRange(id.version, pattern.range));
}

/** The cell id without versions (`python@1.62.3→ts/…` becomes `python→ts/…`), for patterns that span segments. */
function withoutVersions(id: string, versions: VersionTable): string {
  const parts = split(id);
  return parts ? `${idSide(parts.client, versions).base}→${idSide(parts.server, versions).base}/${parts.rest}` : id;
}

/** Whether a cell pattern matches a cell id. */
export function patternMatches(pattern: string, id: string, versions: VersionTable = {}): boolean {
  const p = compile(pattern);
  if ('spanning' in p) {
    // A pattern whose `**` spans the client or server: matched against the id with and without versions.
    return p.spanning.test(id) || p.spanning.test(withoutVersions(id, versions));
  }
  const c = split(id);
  if (!c) return globToRegExp(pattern).test(id);
  return p.rest.test(c.rest) && sideMatches(p.client, idSide(c.client, versions)) && sideMatches(p.server, idSide(c.server, versions));
}

/** Why a side of a pattern is malformed (a range semver cannot read), or undefined. */
export function sideProblem(text: string): string | undefined {
  const side = parseSide(text);
  if (side.range === undefined) return undefined;
  return semver.validRange(side.range) === null ? `"${side.range}" is not a semver version or range (e.g. 1.8.22, <1.10.10, 1.8.x, >=1.60 <1.70)` : undefined;
}
