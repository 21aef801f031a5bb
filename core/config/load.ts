/**
 * Load an experiment file: YAML with positions, `extends:` (deep merge, later wins, the including
 * file wins; relative to the including file; cycles reported with their chain), ${env:…}, then
 * `--set` overrides. Returns plain data that can still say where each value came from.
 */
import { readTextSafely, UnreadableText } from '../fsutil.js';

/** Experiment files are small; anything bigger is not one (and is not read). */
const MAX_CONFIG_BYTES = 4 * 2 ** 20;
import { dirname, resolve } from 'node:path';
import { UserError, type Problem } from '../errors.js';
import { displayPath, makeLoaded, OriginMap, type LoadedConfig, type Origin } from './located.js';
import { formatPath, pathKey, type ConfigPath } from './path.js';
import { applySets, parseSet } from './set.js';
import { parseYamlTree, putKey, type Tree } from './yaml-tree.js';
import { MODEL_SOURCES } from './envelope.js';

export type { LoadedConfig, Origin } from './located.js';

export interface LoadOptions {
  /** `--set path=value` flags, applied last in order. */
  sets?: readonly string[];
  /** Environment for ${env:…} (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` without the null-valued keys of its mappings (at any depth; list items are kept). */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) putKey(out, k, dropNulls(x));
  return out;
}

/** Keys that say what a mapping is: a plugin's `type`, the training `method`. */
const DISCRIMINATORS = ['type', 'method'];

/**
 * Whether mapping `v` says it is something else than `old`: another plugin `type`, another
 * training `method`, or a model from another source (`path` over an inherited `id`).
 */
function switchesKind(old: Record<string, unknown>, v: Record<string, unknown>): boolean {
  if (DISCRIMINATORS.some((d) => d in v && d in old && v[d] !== old[d])) return true;
  const sources = (m: Record<string, unknown>) => MODEL_SOURCES.filter((k) => k in m);
  const mine = sources(v);
  return mine.length > 0 && sources(old).some((k) => !mine.includes(k));
}

/**
 * Deep-merge `over` into `base` (mutating base): mappings merge, anything else replaces — except
 * that a mapping that says it is something else (another plugin `type`, training `method` or
 * model source) replaces the inherited one whole, since the old options mean nothing to the new
 * one; and `key: null` removes an inherited key.
 */
function mergeTree(base: Tree, over: Tree): void {
  const walk = (b: Record<string, unknown>, o: Record<string, unknown>, path: ConfigPath) => {
    for (const [k, v] of Object.entries(o)) {
      const p = [...path, k];
      const old = Object.prototype.hasOwnProperty.call(b, k) ? b[k] : undefined;
      if (v === null) {
        delete b[k];
        base.origins.deleteTree(p);
        over.origins.deleteTree(p);
        continue;
      }
      if (isPlainObject(old) && isPlainObject(v) && !switchesKind(old, v)) walk(old, v, p);
      else {
        base.origins.deleteTree(p);
        putKey(b, k, dropNulls(v));
      }
    }
  };
  walk(base.data, over.data, []);
  base.origins.assign(over.origins);
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

interface Ref {
  from: Origin;
  path: ConfigPath;
  text: string;
}

function loadTree(file: string, chain: string[], env: NodeJS.ProcessEnv, problems: Problem[], ref?: Ref): Tree {
  let source: string;
  try {
    source = readTextSafely(file, MAX_CONFIG_BYTES);
  } catch (e) {
    if (e instanceof UnreadableText && e.at) {
      throw UserError.at('E_YAML', { file: displayPath(file), line: e.at.line, col: e.at.col, path: '', message: `not valid UTF-8 (byte 0x${e.at.byte.toString(16).padStart(2, '0')}); save the file as UTF-8` });
    }
    if (!ref) throw new UserError('E_FILE', `cannot read config file ${displayPath(file)}: ${reason(e)}`, { cause: e });
    throw UserError.at('E_FILE', {
      file: displayPath(ref.from.file),
      line: ref.from.line,
      col: ref.from.col,
      path: formatPath(ref.path),
      message: `cannot read "${ref.text}" (${displayPath(file)}): ${reason(e)}`,
    });
  }
  const tree = parseYamlTree(file, source, env, problems);
  const ext = tree.data.extends;
  const refs: Ref[] = [];
  const origin = (p: ConfigPath) => tree.origins.values.get(pathKey(p)) ?? { file };
  if (typeof ext === 'string') refs.push({ from: origin(['extends']), path: ['extends'], text: ext });
  else if (Array.isArray(ext) && ext.every((x) => typeof x === 'string')) {
    ext.forEach((text: string, i) => refs.push({ from: origin(['extends', i]), path: ['extends', i], text }));
  } else if (ext !== undefined && ext !== null) {
    const o = origin(['extends']);
    problems.push({ file: displayPath(file), line: o.line, col: o.col, path: 'extends', message: 'must be a file path or a list of file paths' });
  }
  delete tree.data.extends;
  tree.origins.deleteTree(['extends']);

  const acc: Tree = { data: {}, origins: new OriginMap() };
  // An extends path whose ${env:…} failed is reported with the other problems, not read as "".
  const broken = new Set(problems.filter((p) => p.file === displayPath(file)).map((p) => p.path));
  for (const r of refs) {
    if (broken.has(formatPath(r.path))) continue;
    const target = resolve(dirname(file), r.text);
    const seen = [...chain, file];
    if (seen.includes(target)) {
      const cycle = [...seen.slice(seen.indexOf(target)), target].map(displayPath).join(' → ');
      throw UserError.config([
        { file: displayPath(file), line: r.from.line, col: r.from.col, path: formatPath(r.path), message: `extends cycle: ${cycle}` },
      ]);
    }
    mergeTree(acc, loadTree(target, seen, env, problems, r));
  }
  mergeTree(acc, tree);
  return acc;
}

/**
 * Load `file` (absolute or relative to the working directory). Throws E_FILE, E_YAML, E_USAGE
 * (malformed --set) or E_CONFIG (unset ${env:…}, extends cycle) UserErrors.
 */
export function loadConfig(file: string, opts: LoadOptions = {}): LoadedConfig {
  const sets = opts.sets ?? [];
  for (const s of sets) parseSet(s); // usage errors first, before touching files
  const abs = resolve(file);
  const problems: Problem[] = [];
  const tree = loadTree(abs, [], opts.env ?? process.env, problems);
  if (problems.length > 0) throw UserError.config(problems);
  return applySets(makeLoaded(abs, tree.data, tree.origins), sets);
}
