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

/** Keys that say what a mapping is: a plugin's `type`, the training `method`. */
const DISCRIMINATORS = ['type', 'method'];

/**
 * Deep-merge `over` into `base` (mutating base): mappings merge, anything else replaces — except
 * that a plugin entry naming another `type` (or a training section naming another `method`)
 * replaces the inherited entry whole, since the old options mean nothing to the new one.
 */
function mergeTree(base: Tree, over: Tree): void {
  const walk = (b: Record<string, unknown>, o: Record<string, unknown>, path: ConfigPath) => {
    for (const [k, v] of Object.entries(o)) {
      const p = [...path, k];
      const old = Object.prototype.hasOwnProperty.call(b, k) ? b[k] : undefined;
      const otherPlugin = isPlainObject(old) && isPlainObject(v) && DISCRIMINATORS.some((d) => d in v && d in old && v[d] !== old[d]);
      if (isPlainObject(old) && isPlainObject(v) && !otherPlugin) walk(old, v, p);
      else {
        base.origins.deleteTree(p);
        putKey(b, k, v);
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
