/**
 * Overrides: `--set dotted.path=value` from the command line and sweep values. The value is
 * parsed as YAML and replaces whatever is at the path (an object or list replaces the whole
 * object or list, as in Hydra). Every replaced value is located at its override's origin.
 */
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import { MODEL_SOURCES } from './envelope.js';
import { makeLoaded, originsOf, OriginMap, type LoadedConfig, type Origin } from './located.js';
import { findReservedKey, getAtPath, parsePath, pathKey, reservedKeyMessage, setAtPath, type ConfigPath } from './path.js';

export interface Override {
  path: ConfigPath;
  value: unknown;
  origin: Origin;
  /** Where the path itself was written (a sweep key); default: origin. */
  keyOrigin?: Origin;
}

export const SET_ORIGIN: Origin = { file: '--set' };

/** Parse one `--set` argument; a malformed one is an E_USAGE error naming the flag. */
export function parseSet(flag: string): { path: ConfigPath; value: unknown } {
  const eq = flag.indexOf('=');
  if (eq < 0) throw new UserError('E_USAGE', `--set "${flag}": expected path=value (e.g. --set loss.margin=0.5)`);
  const path = parsePath(flag.slice(0, eq));
  if (typeof path === 'string') throw new UserError('E_USAGE', `--set "${flag}": ${path}`);
  if (path[0] === 'extends') {
    throw new UserError('E_USAGE', `--set "${flag}": extends is read with the experiment file, before --set applies; write extends: in the file (or --set the values themselves)`);
  }
  const text = flag.slice(eq + 1);
  let value: unknown = '';
  if (text.trim() !== '') {
    try {
      value = parse(text, { prettyErrors: false });
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      throw new UserError('E_USAGE', `--set "${flag}": the value is not valid YAML: ${msg}`);
    }
  }
  const reserved = findReservedKey(value);
  if (reserved) throw new UserError('E_USAGE', `--set "${flag}": in the value: ${reservedKeyMessage(reserved.key)}`);
  return { path, value };
}

/** Record `origin` for `path`, each value below it, and each ancestor that has none yet. */
function locateTree(origins: OriginMap, path: ConfigPath, value: unknown, origin: Origin, keyOrigin: Origin): void {
  for (let n = 1; n < path.length; n++) {
    const prefix = path.slice(0, n);
    if (!origins.values.has(pathKey(prefix))) origins.set(prefix, origin);
  }
  const walk = (p: ConfigPath, v: unknown) => {
    origins.set(p, origin);
    if (Array.isArray(v)) v.forEach((x, i) => walk([...p, i], x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk([...p, k], x);
  };
  walk(path, value);
  origins.set(path, origin, keyOrigin);
}

/** Apply one override in place; returns an error text when the path cannot be set. */
export function applyOverride(data: Record<string, unknown>, origins: OriginMap, ov: Override): string | undefined {
  const norm = setAtPath(data, ov.path, structuredClone(ov.value));
  if (typeof norm === 'string') return norm;
  origins.deleteTree(norm);
  if (ov.value === null) {
    // `--set key=null` (or a sweep value null) removes the key: its default applies.
    const parent = getAtPath(data, norm.slice(0, -1)) as Record<string | number, unknown>;
    if (Array.isArray(parent)) parent.splice(norm[norm.length - 1] as number, 1);
    else delete parent[norm[norm.length - 1]!];
    return undefined;
  }
  // A model from another source replaces the old source (`--set model.path=…` over an inherited id).
  const source = norm[1];
  if (norm.length === 2 && norm[0] === 'model' && typeof source === 'string' && (MODEL_SOURCES as readonly string[]).includes(source)) {
    const model = data.model as Record<string, unknown>;
    for (const other of MODEL_SOURCES) {
      if (other === source || !(other in model)) continue;
      // `revision` is the hub id's: it goes with it.
      for (const key of other === 'id' ? [other, 'revision'] : [other]) {
        delete model[key];
        origins.deleteTree(['model', key]);
      }
    }
  }
  locateTree(origins, norm, ov.value, ov.origin, ov.keyOrigin ?? ov.origin);
  return undefined;
}

/** A copy of `loaded` with overrides applied (the original is left as is). */
export function withOverrides(loaded: LoadedConfig, overrides: Override[], onError: (ov: Override, error: string) => void): LoadedConfig {
  const data = structuredClone(loaded.data);
  const origins = originsOf(loaded).clone();
  for (const ov of overrides) {
    const err = applyOverride(data, origins, ov);
    if (err !== undefined) onError(ov, err);
  }
  return makeLoaded(loaded.file, data, origins);
}

/** Apply `--set` flags (in order, later wins); located at `--set`. */
export function applySets(loaded: LoadedConfig, sets: readonly string[]): LoadedConfig {
  if (sets.length === 0) return loaded;
  const parsed = sets.map((flag) => ({ flag, ...parseSet(flag) }));
  const overrides = parsed.map((p) => ({ path: p.path, value: p.value, origin: SET_ORIGIN }));
  return withOverrides(loaded, overrides, (ov, error) => {
    const flag = parsed[overrides.indexOf(ov)]!.flag;
    throw new UserError('E_USAGE', `--set "${flag}": ${error}`);
  });
}
