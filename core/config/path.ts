/**
 * Config paths: an array of keys and list indexes (`['sinks', 1, 'type']`), shown dotted
 * (`sinks[1].type`), parsed from `--set` / sweep keys (`sinks[1].type` or `sinks.1.type`), and
 * applied to plain data (replace at path, creating missing mappings on the way).
 */

export type ConfigPath = Array<string | number>;

/** A map key for a path; digits and numbers collide on purpose (`sinks.1` is `sinks[1]`). */
export function pathKey(path: readonly (string | number)[]): string {
  return path.map(String).join('\u0001');
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Keys that would reach an object's prototype: never a config key or path segment. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function reservedKeyMessage(key: string): string {
  return `"${key}" cannot be a key: JavaScript reserves it (${[...RESERVED_KEYS].join(', ')})`;
}

/** The first reserved key anywhere in a parsed value, with its path below the value. */
export function findReservedKey(value: unknown, path: ConfigPath = []): { key: string; path: ConfigPath } | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const r = findReservedKey(value[i], [...path, i]);
      if (r) return r;
    }
  } else if (value && typeof value === 'object') {
    for (const k of Object.keys(value)) {
      if (RESERVED_KEYS.has(k)) return { key: k, path: [...path, k] };
      const r = findReservedKey((value as Record<string, unknown>)[k], [...path, k]);
      if (r) return r;
    }
  }
  return undefined;
}

/** `loss.margin`, `sinks[1].type`, `sweep.grid["training.lr"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Parse a dotted path. Segments are separated by `.`; `[n]` indexes a list and `["key"]` names a
 * key that contains dots (`sweep.grid["training.lr"]`). Digit-only dotted segments stay strings
 * here and become indexes when applied to a list. Returns an error text for a malformed path.
 */
export function parsePath(text: string): ConfigPath | string {
  if (text.trim() === '') return 'the path is empty';
  const out: ConfigPath = [];
  let i = 0;
  let expectKey = true; // at the start or after a '.'
  while (i < text.length) {
    if (text[i] === '[') {
      if (expectKey) return `empty segment in path "${text}"`;
      const m = /^\[(\d+)\]/.exec(text.slice(i)) ?? /^\[("(?:[^"\\]|\\.)*")\]/.exec(text.slice(i));
      const key = m && m[1]!.startsWith('"') ? jsonString(m[1]!) : undefined;
      if (!m || key === null) return `malformed index in path "${text}" at "${text.slice(i)}"`;
      out.push(key ?? Number(m[1]));
      i += m[0].length;
      expectKey = false;
    } else if (text[i] === '.') {
      if (expectKey) return `empty segment in path "${text}"`;
      expectKey = true;
      i++;
    } else {
      if (!expectKey) return `malformed path "${text}": expected "." or "[" at "${text.slice(i)}"`;
      let j = i;
      while (j < text.length && text[j] !== '.' && text[j] !== '[') {
        if (text[j] === ']') return `malformed path "${text}": unexpected "]"`;
        j++;
      }
      out.push(text.slice(i, j));
      i = j;
      expectKey = false;
    }
  }
  if (expectKey) return `empty segment in path "${text}"`;
  const reserved = out.find((seg) => typeof seg === 'string' && RESERVED_KEYS.has(seg));
  if (reserved !== undefined) return `in path "${text}": ${reservedKeyMessage(String(reserved))}`;
  return out;
}

function jsonString(s: string): string | null {
  try {
    return JSON.parse(s) as string;
  } catch {
    return null;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/** The value at `path` in `root`, or undefined when something on the way is not a mapping or list. */
export function getAtPath(root: unknown, path: ConfigPath): unknown {
  return path.reduce<unknown>((node, k) => (typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[k] : undefined), root);
}

/**
 * Replace the value at `path` in `root` (mutates). Missing or null containers on the way are
 * created (a list before a `[n]` index, else a mapping); list indexes may point at an existing
 * item or one past the end (append). Returns the normalized path (digit segments on lists become
 * numbers), or an error text.
 */
export function setAtPath(root: Record<string, unknown>, path: ConfigPath, value: unknown): ConfigPath | string {
  const norm: ConfigPath = [];
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    let key: string | number;
    if (Array.isArray(node)) {
      const n = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
      if (Number.isNaN(n)) return `${formatPath(norm)} is a list; "${seg}" is not an index`;
      if (n > node.length) return `index ${n} is out of range (${formatPath(norm)} has ${node.length} item${node.length === 1 ? '' : 's'})`;
      key = n;
    } else if (isPlainObject(node)) {
      key = String(seg);
      if (RESERVED_KEYS.has(key)) return reservedKeyMessage(key);
    } else {
      return `${formatPath(norm)} is ${kindOf(node)}, not a mapping or list`;
    }
    norm.push(key);
    const container = node as Record<string | number, unknown>;
    if (last) {
      container[key] = value;
    } else {
      if (container[key] === undefined || container[key] === null) container[key] = typeof path[i + 1] === 'number' ? [] : {};
      node = container[key];
    }
  }
  return norm;
}
