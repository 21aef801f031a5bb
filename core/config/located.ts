/**
 * Where every config value came from. A LoadedConfig is plain data plus an origin per dotted path:
 * the file (main file, an extended file, or `--set`), line and column where it was defined.
 */
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Problem } from '../errors.js';
import { formatPath, pathKey, type ConfigPath } from './path.js';

/** `file` is an absolute path, or `--set` for command-line overrides (no line). */
export interface Origin {
  file: string;
  line?: number;
  col?: number;
  /** For a scalar written with `${env:…}`: the text as written, before interpolation. */
  template?: string;
}

export interface LoadedConfig {
  /** The main experiment file, absolute. */
  file: string;
  /**
   * Where relative paths resolve, when not beside `file` (`ftrun resume` loads resolved.yaml from
   * the run directory, but its paths are as the original experiment file wrote them).
   */
  baseDir?: string;
  /** The merged data after extends, ${env:…} and --set (no defaults, no `extends` key). */
  data: Record<string, unknown>;
  /** Where the value at `path` was defined; falls back to the nearest located ancestor, then the main file. */
  locate(path: ConfigPath): Origin;
  /** Where the key of `path` was written (for unknown-key messages); falls back like locate(). */
  locateKey(path: ConfigPath): Origin;
}

/** Origins of values and of their keys, by path. */
export class OriginMap {
  readonly values = new Map<string, Origin>();
  readonly keys = new Map<string, Origin>();

  set(path: ConfigPath, value: Origin, key: Origin = value): void {
    this.values.set(pathKey(path), value);
    this.keys.set(pathKey(path), key);
  }

  /** Forget `path` and everything below it. */
  deleteTree(path: ConfigPath): void {
    const k = pathKey(path);
    for (const m of [this.values, this.keys]) {
      for (const key of [...m.keys()]) if (key === k || key.startsWith(k + '\u0001')) m.delete(key);
    }
  }

  /** Copy `other`'s entries over ours. */
  assign(other: OriginMap): void {
    for (const [k, v] of other.values) this.values.set(k, v);
    for (const [k, v] of other.keys) this.keys.set(k, v);
  }

  clone(): OriginMap {
    const c = new OriginMap();
    c.assign(this);
    return c;
  }
}

export function makeLoaded(file: string, data: Record<string, unknown>, origins: OriginMap): LoadedConfig {
  const find = (m: Map<string, Origin>, path: ConfigPath): Origin => {
    for (let n = path.length; n > 0; n--) {
      const o = m.get(pathKey(path.slice(0, n))) ?? origins.values.get(pathKey(path.slice(0, n)));
      if (o) return o;
    }
    return { file };
  };
  const loaded: LoadedConfig & { origins: OriginMap } = {
    file,
    data,
    origins,
    locate: (path) => find(origins.values, path),
    locateKey: (path) => find(origins.keys, path),
  };
  return loaded;
}

/** The directory relative paths of `loaded` resolve against (the run and validation alike). */
export function baseDirOf(loaded: LoadedConfig): string {
  return loaded.baseDir ?? dirname(loaded.file);
}

/** A path of `loaded` resolved against its base directory. */
export function resolveIn(loaded: LoadedConfig, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDirOf(loaded), p);
}

/** The text as written (`${env:…}` uninterpolated) of the scalar at exactly `path`, if it was interpolated. */
export function templateAt(loaded: LoadedConfig, path: ConfigPath): string | undefined {
  return originsOf(loaded).values.get(pathKey(path))?.template;
}

/** The OriginMap behind a LoadedConfig made here (a fresh one for a hand-made LoadedConfig). */
export function originsOf(loaded: LoadedConfig): OriginMap {
  const o = (loaded as { origins?: unknown }).origins;
  return o instanceof OriginMap ? o : new OriginMap();
}

/** A file path for messages: relative to the working directory when under it. */
export function displayPath(file: string): string {
  if (file === '--set' || !isAbsolute(file)) return file;
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** A located Problem for `path`, at the value (or at the key with `at: 'key'`). */
export function problemAt(loaded: LoadedConfig, path: ConfigPath, message: string, at: 'value' | 'key' = 'value'): Problem {
  const o = at === 'key' ? loaded.locateKey(path) : loaded.locate(path);
  const p: Problem = { file: displayPath(o.file), path: formatPath(path), message };
  if (o.line !== undefined) {
    p.line = o.line;
    p.col = o.col ?? 1;
  }
  return p;
}

/** Sort problems by file (main file first, `--set` last), then line and column. Stable. */
export function sortProblems(problems: Problem[], mainFile: string): Problem[] {
  const main = displayPath(mainFile);
  const rank = (f: string) => (f === main ? 0 : f === '--set' ? 2 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const r = rank(a.p.file) - rank(b.p.file) || (a.p.file < b.p.file ? -1 : a.p.file > b.p.file ? 1 : 0);
      return r || (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.col ?? 0) - (b.p.col ?? 0) || a.i - b.i;
    })
    .map((x) => x.p);
}
