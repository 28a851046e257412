/**
 * YAML input files (matrix.yaml, case files): parsed with line numbers, aliases checked, and
 * every problem reported as `file:line: field: message`, never as a stack trace.
 */
import { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
import type { z } from 'zod';

/** A problem with the user's input: printed as is, exit code 2. */
export class ConfigError extends Error {}

export interface Problem {
  path: PropertyKey[];
  message: string;
}

/** The line of the deepest node on `path` that exists; for a map entry, the line of its key. */
function lineOf(doc: Document, counter: LineCounter, path: ReadonlyArray<PropertyKey>): number | undefined {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined;
  for (const segment of path) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      const key = pair?.key as Node | undefined;
      if (key?.range) line = counter.linePos(key.range[0]).line;
      next = pair?.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
      if (isNode(next) && next.range) line = counter.linePos(next.range[0]).line;
    }
    if (next === undefined) break;
    node = next;
  }
  return line;
}

export function fieldName(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';
}

export function issueText(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union') {
    // A value that fits no alternative (e.g. a case as a name or as an object): report the
    // alternative it came closest to, the one whose first problem lies deepest.
    const closest = issue.errors.map((branch) => branch[0]).filter((i) => i !== undefined).sort((a, b) => b.path.length - a.path.length)[0];
    if (closest && closest.path.length > 0) {
      const inner = issueText(closest);
      return { path: [...issue.path, ...inner.path], message: inner.message };
    }
  }
  if (issue.code === 'invalid_key') {
    return { path: [...issue.path], message: `bad name: ${issue.issues[0]?.message ?? issue.message}` };
  }
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return { path: [...issue.path, key], message: `unknown key "${key}"` };
  }
  if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) {
    return { path: [...issue.path], message: `missing (required: ${issue.expected})` };
  }
  return { path: [...issue.path], message: issue.message };
}

/** At most this many aliases may be expanded (yaml's own default limit for toJS): more is an alias bomb. */
const MAX_ALIASES = 100;

/**
 * Aliases, checked before the document becomes data (where yaml throws a bare ReferenceError):
 * an alias without an anchor before it, an alias inside the value it copies, or more than
 * MAX_ALIASES alias expansions in all — each alias counts once plus the aliases inside the value
 * it copies, recursively, so a billion-laughs file trips it. Also returns the alias that expands
 * the most, to name when yaml's own (differently counted) limit trips anyway.
 */
function aliasProblem(doc: Document): { problem?: { alias: Alias; message: string }; largest?: Alias } {
  const anchors = new Map<string, Node>(); // anchor name → the latest node with it, in file order
  const aliases: Array<{ alias: Alias; target: Node | undefined; circular: boolean }> = [];
  visit(doc, {
    Node: (_key, node, path) => {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        aliases.push({ alias: node, target, circular: target !== undefined && path.includes(target) });
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  const targets = new Map(aliases.map(({ alias, target }) => [alias, target]));
  const expanded = new Map<Node, number>();
  /** How many alias expansions copying `node` takes. */
  const expansions = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node);
      return 1 + (target ? expansions(target) : 0);
    }
    if (isPair(node)) return expansions(node.key) + expansions(node.value);
    if (!isCollection(node)) return 0;
    const known = expanded.get(node);
    if (known !== undefined) return known;
    expanded.set(node, Infinity); // a cycle (reported as circular before it is counted)
    const n = node.items.reduce<number>((sum, item) => sum + expansions(item), 0);
    expanded.set(node, n);
    return n;
  };
  let total = 0;
  let largest: { alias: Alias; n: number } | undefined;
  for (const { alias, target, circular } of aliases) {
    if (!target) return { problem: { alias, message: `unknown alias *${alias.source} (its anchor &${alias.source} must come before it)` } };
    if (circular) return { problem: { alias, message: `alias *${alias.source} is inside the value it refers to` } };
    const n = expansions(alias);
    if (!largest || n > largest.n) largest = { alias, n };
    total += n;
    if (total > MAX_ALIASES) return { problem: { alias, message: `too many aliases (expanding them would copy values more than ${MAX_ALIASES} times: an alias bomb?)` } };
  }
  return largest ? { largest: largest.alias } : {};
}

export interface YamlFile {
  data: unknown;
  /** `file:line` of a field (e.g. ['known_failures', 3, 'cell']). */
  locate(path: ReadonlyArray<PropertyKey>): string;
}

/** Parses YAML text (`file` names it in messages); throws ConfigError with file:line. */
export function readYaml(text: string, file: string, what: string): YamlFile {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: true, merge: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    const source = line ? text.split('\n')[line - 1]?.trim() : undefined;
    throw new ConfigError(`${file}${line ? `:${line}` : ''}: YAML syntax error: ${err.message.split('\n')[0]!.replace(/:$/, '')}${source ? ` (the line: ${source})` : ''}`);
  }
  if (doc.contents === null) throw new ConfigError(`${file}: the file is empty; it needs ${what}`);
  const at = (node: Node | undefined) => (node?.range ? `${file}:${counter.linePos(node.range[0]).line}` : file);
  const aliases = aliasProblem(doc);
  if (aliases.problem) throw new ConfigError(`${at(aliases.problem.alias)}: YAML: ${aliases.problem.message}`);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${at(aliases.largest)}: YAML: ${/alias count/i.test(message) ? `too many aliases (${message})` : message}`);
  }
  const locate = (path: ReadonlyArray<PropertyKey>) => {
    const line = lineOf(doc, counter, path);
    return `${file}${line ? `:${line}` : ''}`;
  };
  return { data, locate };
}

/** Every problem as one line `file:line: field: message`. */
export function problemsError(problems: Problem[], locate: YamlFile['locate']): ConfigError {
  return new ConfigError(problems.map(({ path, message }) => `${locate(path)}: ${fieldName(path)}: ${message}`).join('\n'));
}
