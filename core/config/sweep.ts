/**
 * `sweep:` expansion. `grid` is the cartesian product of its lists (keys in file order, the last
 * key varies fastest); `zip` walks its equal-length lists in parallel; with both, every grid
 * combination is paired with every zip position (zip varies fastest). `random` (sweep-random.ts)
 * draws `trials` points from its space once; every grid × zip combination is paired with every
 * draw (the draws vary fastest), so grid values are compared at the same random points. Each
 * trial is the loaded config without `sweep`, with its overrides applied and located at the sweep
 * values.
 */
import { UserError, type Problem } from '../errors.js';
import { makeLoaded, originsOf, problemAt, sortProblems, type LoadedConfig } from './located.js';
import { choices } from './messages.js';
import { formatPath, parsePath, type ConfigPath } from './path.js';
import { withOverrides, type Override } from './set.js';
import { DEFAULT_MAX_TRIALS } from './types.js';
import { stopProblems } from './sweep-stop.js';
import { drawRandom, readRandom, type RandomSpec } from './sweep-random.js';

export { DEFAULT_MAX_TRIALS };

export interface Trial {
  /** Trial number, counted from 1 as in output (`trial 1/4`) and the directory `trials/1`. */
  index: number;
  /** Sweep path (as written) → the value of this trial. */
  overrides: Record<string, unknown>;
  loaded: LoadedConfig;
}

const SECTIONS = ['grid', 'zip'] as const;
type Section = (typeof SECTIONS)[number];
/** Top-level keys a sweep cannot change. */
const NOT_SWEEPABLE = ['sweep', 'extends', 'plugins'];

interface Axis {
  section: Section | 'random';
  key: string;
  path: ConfigPath;
  values: unknown[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function hasSweep(loaded: LoadedConfig): boolean {
  return loaded.data.sweep !== undefined && loaded.data.sweep !== null;
}

/** The sweep's axes, plus the problems of a malformed sweep section. */
function readSweep(loaded: LoadedConfig): { axes: Axis[]; random?: RandomSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  const axes: Axis[] = [];
  /** Paths swept so far → their section (a path is swept once, in one section). */
  const swept = new Map<string, string>();
  /** The parsed path of a sweep key, or undefined (its problem pushed) when it cannot be swept. */
  const checkPath = (key: string, where: ConfigPath, section: string): ConfigPath | undefined => {
    const path = parsePath(key);
    if (typeof path === 'string') at(where, `bad sweep path: ${path}`, 'key');
    else if (NOT_SWEEPABLE.includes(String(path[0]))) at(where, `"${path[0]}" cannot be swept`, 'key');
    else if (swept.has(formatPath(path))) at(where, `"${key}" is swept twice (in ${swept.get(formatPath(path))} and ${section})`, 'key');
    else return swept.set(formatPath(path), section), path;
    return undefined;
  };
  const sweep = loaded.data.sweep;
  const at = (path: ConfigPath, msg: string, where: 'value' | 'key' = 'value') => problems.push(problemAt(loaded, path, msg, where));
  if (!isMap(sweep)) {
    at(['sweep'], 'must be a mapping with "grid", "zip" and/or "random"');
    return { axes, problems };
  }
  for (const k of Object.keys(sweep)) {
    if (!([...SECTIONS, 'random', 'max_trials', 'stop'] as readonly string[]).includes(k)) at(['sweep', k], `unknown option "${k}". ${choices(k, [...SECTIONS, 'random', 'max_trials', 'stop'])}`, 'key');
  }
  problems.push(...stopProblems(loaded));
  const max = sweep.max_trials ?? DEFAULT_MAX_TRIALS;
  const maxOk = typeof max === 'number' && Number.isInteger(max) && max >= 1;
  if (!maxOk) at(['sweep', 'max_trials'], `must be a positive integer, found ${JSON.stringify(max)}`);
  if (sweep.grid === undefined && sweep.zip === undefined && sweep.random === undefined) at(['sweep'], 'must define "grid", "zip" and/or "random"');
  for (const section of SECTIONS) {
    const map = sweep[section];
    if (map === undefined) continue;
    if (!isMap(map) || Object.keys(map).length === 0) {
      at(['sweep', section], 'must be a non-empty mapping from dotted path to a list of values');
      continue;
    }
    for (const [key, values] of Object.entries(map)) {
      const where: ConfigPath = ['sweep', section, key];
      const path = checkPath(key, where, section);
      if (!path) continue;
      if (!Array.isArray(values) || values.length === 0) at(where, 'must be a non-empty list of values');
      else axes.push({ section, key, path, values });
    }
  }
  const zip = axes.filter((a) => a.section === 'zip');
  if (zip.some((a) => a.values.length !== zip[0]!.values.length)) {
    const lengths = zip.map((a) => `${a.key} has ${a.values.length} value${a.values.length === 1 ? '' : 's'}`).join(', ');
    at(['sweep', 'zip'], `zip lists must have equal lengths: ${lengths}`);
  }
  const random = sweep.random === undefined ? undefined : readRandom(loaded, problems, (key, where) => checkPath(key, where, 'random'));
  // Count before expanding anything: a huge grid is refused, not built.
  const count = axes.filter((a) => a.section === 'grid').reduce((n, a) => n * a.values.length, 1) * (zip.length ? zip[0]!.values.length : 1) * (random?.trials ?? 1);
  if ((axes.length > 0 || random) && maxOk && count > (max as number)) {
    at(['sweep'], `expands to ${count.toLocaleString('en-US')} trials, more than sweep.max_trials (${max as number}${sweep.max_trials === undefined ? ', the default' : ''}); shorten the lists, or raise sweep.max_trials if you mean it`);
  }
  return { axes, ...(random ? { random } : {}), problems: sortProblems(problems, loaded.file) };
}

/** Problems of the sweep section itself (shape, paths, zip lengths); [] without a sweep. */
export function sweepProblems(loaded: LoadedConfig): Problem[] {
  return hasSweep(loaded) ? readSweep(loaded).problems : [];
}

/** Indexes into each axis for every grid combination (last axis fastest). */
function cartesian(sizes: number[]): number[][] {
  let out: number[][] = [[]];
  for (const n of sizes) out = out.flatMap((prefix) => Array.from({ length: n }, (_, i) => [...prefix, i]));
  return out;
}

/** One entry per trial; [] when the file has no sweep. Throws E_CONFIG for a malformed sweep. */
export function expandTrials(loaded: LoadedConfig): Trial[] {
  if (!hasSweep(loaded)) return [];
  const { axes, random, problems } = readSweep(loaded);
  if (problems.length) throw UserError.config(problems);

  const origins = originsOf(loaded).clone();
  origins.deleteTree(['sweep']);
  const data = { ...loaded.data };
  delete data.sweep;
  const base = makeLoaded(loaded.file, data, origins);

  const grid = axes.filter((a) => a.section === 'grid');
  const zip = axes.filter((a) => a.section === 'zip');
  const zipLength = zip.length ? zip[0]!.values.length : 1;
  // A random draw is one more axis per dimension, with that draw's value as its only value.
  const draws: Array<Array<[Axis, number]>> = random
    ? drawRandom(random).map((row) => random.dims.map((d, i): [Axis, number] => [{ section: 'random', key: d.key, path: d.path, values: [row[i]] }, 0]))
    : [[]];
  const picks: Array<Array<[Axis, number]>> = [];
  for (const combo of cartesian(grid.map((a) => a.values.length))) {
    for (let z = 0; z < zipLength; z++) {
      for (const draw of draws) picks.push([...grid.map((a, i): [Axis, number] => [a, combo[i]!]), ...zip.map((a): [Axis, number] => [a, z]), ...draw]);
    }
  }

  const errors: Problem[] = [];
  const seen = new Set<string>();
  const trials = picks.map((pick, index) => {
    const overrides: Record<string, unknown> = {};
    const list: Override[] = pick.map(([a, i]) => {
      overrides[a.key] = a.values[i];
      // a random value is located at its distribution
      const at: ConfigPath = a.section === 'random' ? ['sweep', 'random', 'space', a.key] : ['sweep', a.section, a.key];
      const origin = loaded.locate(a.section === 'random' ? at : [...at, i]);
      return { path: a.path, value: a.values[i], origin, keyOrigin: loaded.locateKey(at) };
    });
    const trialLoaded = withOverrides(base, list, (ov, error) => {
      const axis = pick.find(([a]) => a.path === ov.path)![0];
      const p = problemAt(loaded, axis.section === 'random' ? ['sweep', 'random', 'space', axis.key] : ['sweep', axis.section, axis.key], `cannot apply sweep path: ${error}`, 'key');
      if (!seen.has(p.message + p.path)) {
        seen.add(p.message + p.path);
        errors.push(p);
      }
    });
    return { index: index + 1, overrides, loaded: trialLoaded };
  });
  if (errors.length) throw UserError.config(errors);
  return trials;
}

/** The `sweep.random` block read (undefined without one; throws E_CONFIG for a malformed sweep). */
export function randomSpec(loaded: LoadedConfig): RandomSpec | undefined {
  if (!hasSweep(loaded)) return undefined;
  const { random, problems } = readSweep(loaded);
  if (problems.length) throw UserError.config(problems);
  return random;
}
