/**
 * `sweep.random`: random search. `trials` draws from a `space` of distributions over option
 * paths, named as in Optuna and Ray Tune:
 *
 *   sweep:
 *     random:
 *       trials: 8
 *       seed: 7                     # default: the experiment's `seed`
 *       space:
 *         training.learning_rate: {loguniform: [1.0e-5, 1.0e-4]}
 *         training.warmup_ratio: {uniform: [0.0, 0.2]}
 *         training.batch_size: {choice: [8, 16, 32]}
 *         training.epochs: {int: [1, 4]}            # both ends included
 *         model.max_seq_length: {int: [32, 256], log: true}
 *
 * Draws are seeded with core/rng.ts, one stream per path (deriveSeed(seed, path)), so the same
 * file gives the same trials every time, and adding or removing a path leaves the other paths'
 * draws as they were. Float draws are rounded to 4 significant digits (kept within [lo, hi]).
 */
import type { Problem } from '../errors.js';
import { deriveSeed, Rng } from '../rng.js';
import { problemAt, type LoadedConfig } from './located.js';
import { choices, describeValue } from './messages.js';
import type { ConfigPath } from './path.js';
import { withOverrides } from './set.js';

export const DISTRIBUTIONS = ['choice', 'uniform', 'loguniform', 'int'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];
const RANDOM_KEYS = ['trials', 'seed', 'space'];

export type Distribution =
  | { kind: 'choice'; values: unknown[] }
  | { kind: 'uniform' | 'loguniform'; lo: number; hi: number }
  | { kind: 'int'; lo: number; hi: number; log: boolean };

export interface RandomDim {
  /** The path as written in `space`. */
  key: string;
  path: ConfigPath;
  dist: Distribution;
}

export interface RandomSpec {
  trials: number;
  seed: number;
  dims: RandomDim[];
}

/** The experiment seed's default (envelope `seed`), used when neither seed is written. */
const DEFAULT_SEED = 42;

const SHAPES = '{choice: [a, b, …]}, {uniform: [lo, hi]}, {loguniform: [lo, hi]} or {int: [lo, hi]} (optionally with log: true)';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Read `sweep.random`: the spec, or undefined when it is malformed (its problems pushed to
 * `problems`). `checkPath` reports a path that cannot be swept (shared with grid and zip).
 */
export function readRandom(
  loaded: LoadedConfig,
  problems: Problem[],
  checkPath: (key: string, where: ConfigPath) => ConfigPath | undefined,
): RandomSpec | undefined {
  const random = (loaded.data.sweep as Record<string, unknown>).random;
  const at = (path: ConfigPath, msg: string, where: 'value' | 'key' = 'value') => problems.push(problemAt(loaded, path, msg, where));
  const before = problems.length;
  if (!isMap(random)) {
    at(['sweep', 'random'], `must be a mapping { trials: N, seed: S, space: { <option path>: <distribution> } }, found ${describeValue(random)}`);
    return undefined;
  }
  for (const k of Object.keys(random)) {
    if (!RANDOM_KEYS.includes(k)) at(['sweep', 'random', k], `unknown option "${k}". ${choices(k, RANDOM_KEYS)}`, 'key');
  }
  const trials = random.trials;
  if (trials === undefined) at(['sweep', 'random'], 'needs "trials": how many random draws (e.g. trials: 8)');
  else if (typeof trials !== 'number' || !Number.isInteger(trials) || trials < 1) at(['sweep', 'random', 'trials'], `must be a positive integer (the number of random draws), found ${describeValue(trials)}`);
  const seed = random.seed ?? (Number.isSafeInteger(loaded.data.seed) ? loaded.data.seed : DEFAULT_SEED);
  if (!Number.isSafeInteger(seed)) at(['sweep', 'random', 'seed'], `must be an integer, found ${describeValue(seed)}`);

  const space = random.space;
  const dims: RandomDim[] = [];
  if (space === undefined) at(['sweep', 'random'], `needs "space": option path → distribution, e.g. space: { training.learning_rate: {loguniform: [1.0e-5, 1.0e-4]} }`);
  else if (!isMap(space) || Object.keys(space).length === 0) at(['sweep', 'random', 'space'], `must be a non-empty mapping from option path to a distribution: ${SHAPES}`);
  else {
    for (const [key, spec] of Object.entries(space)) {
      const where: ConfigPath = ['sweep', 'random', 'space', key];
      const path = checkPath(key, where);
      const dist = readDistribution(loaded, where, spec, problems);
      if (path && dist) dims.push({ key, path, dist });
    }
  }
  if (problems.length > before) return undefined;
  return { trials: trials as number, seed: seed as number, dims };
}

function readDistribution(loaded: LoadedConfig, where: ConfigPath, spec: unknown, problems: Problem[]): Distribution | undefined {
  const at = (path: ConfigPath, msg: string, w: 'value' | 'key' = 'value') => void problems.push(problemAt(loaded, path, msg, w));
  if (Array.isArray(spec)) return at(where, `must be a distribution, found a list; to pick one of these values write {choice: ${flow(spec)}}`);
  if (!isMap(spec)) return at(where, `must be a distribution: ${SHAPES}, found ${describeValue(spec)}`);
  const names = Object.keys(spec).filter((k) => k !== 'log');
  for (const k of names) {
    if (!(DISTRIBUTIONS as readonly string[]).includes(k)) at([...where, k], `unknown distribution "${k}". ${choices(k, DISTRIBUTIONS, 'Valid')}`, 'key');
  }
  const known = names.filter((k): k is DistributionName => (DISTRIBUTIONS as readonly string[]).includes(k));
  if (known.length !== names.length) return undefined;
  if (known.length === 0) return at(where, `must name a distribution: ${SHAPES}`);
  if (known.length > 1) return at(where, `names ${known.length} distributions (${known.join(', ')}); give one`);
  const kind = known[0]!;
  const log = spec.log;
  if (log !== undefined && kind !== 'int') return at([...where, 'log'], `log goes with int only (${kind === 'uniform' ? 'for log-spaced floats use loguniform' : `${kind} takes no options`})`, 'key');
  if (log !== undefined && typeof log !== 'boolean') return at([...where, 'log'], `must be true or false, found ${describeValue(log)}`);
  const arg = spec[kind];
  const argAt: ConfigPath = [...where, kind];
  if (kind === 'choice') {
    if (!Array.isArray(arg) || arg.length === 0) return at(argAt, `must be a non-empty list of values, found ${Array.isArray(arg) ? '[]' : describeValue(arg)}`);
    return { kind, values: arg };
  }
  if (!Array.isArray(arg) || arg.length !== 2 || !arg.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return at(argAt, `must be [lo, hi], two numbers, found ${Array.isArray(arg) ? flow(arg) : describeValue(arg)}`);
  }
  const [lo, hi] = arg as [number, number];
  if (kind === 'int' && !(Number.isSafeInteger(lo) && Number.isSafeInteger(hi))) return at(argAt, `int bounds must be integers, found ${flow(arg)}`);
  if (lo >= hi) return at(argAt, `lo must be less than hi, found ${flow(arg)}`);
  if (kind === 'loguniform' && lo <= 0) return at(argAt, `loguniform needs lo > 0, found ${flow(arg)} (for a range from 0 use uniform)`);
  if (kind === 'int' && log === true && lo < 1) return at(argAt, `int with log: true needs lo ≥ 1, found ${flow(arg)}`);
  return kind === 'int' ? { kind, lo, hi, log: log === true } : { kind, lo, hi };
}

/** `[1, "a", {x: 1}]` as written in YAML flow style (JSON, spaced). */
function flow(list: unknown[]): string {
  return `[${list.map((v) => JSON.stringify(v)).join(', ')}]`;
}

/** Round a float draw to 4 significant digits, kept within [lo, hi]. */
function round(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Number(x.toPrecision(4))));
}

/** One draw of `dist` from `rng`. */
export function sample(dist: Distribution, rng: Rng): unknown {
  switch (dist.kind) {
    case 'choice':
      return dist.values[rng.int(dist.values.length)];
    case 'uniform':
      return round(dist.lo + rng.next() * (dist.hi - dist.lo), dist.lo, dist.hi);
    case 'loguniform': {
      const a = Math.log(dist.lo);
      return round(Math.exp(a + rng.next() * (Math.log(dist.hi) - a)), dist.lo, dist.hi);
    }
    case 'int': {
      if (!dist.log) return dist.lo + rng.int(dist.hi - dist.lo + 1);
      // log-uniform over [lo, hi + 1), floored: integer k has probability ∝ log((k + 1) / k)
      const a = Math.log(dist.lo);
      return Math.min(dist.hi, Math.floor(Math.exp(a + rng.next() * (Math.log(dist.hi + 1) - a))));
    }
  }
}

/** The `trials` draws: draws[r][d] is draw r of dimension d (one seeded stream per path). */
export function drawRandom(spec: RandomSpec): unknown[][] {
  const columns = spec.dims.map((d) => {
    const rng = new Rng(deriveSeed(spec.seed, `sweep.random:${d.key}`));
    return Array.from({ length: spec.trials }, () => sample(d.dist, rng));
  });
  return Array.from({ length: spec.trials }, (_, r) => columns.map((c) => c[r]));
}

/**
 * What a space allows beyond the draws: trial `first` (the first trial) with one path set to each
 * value of its choice list, or to each bound of its range, so that validation does not depend on
 * the luck of the draw (a typo in a choice that was not drawn, a range that crosses an option's
 * limit). Values trial `first` already has are left out. Located at the distribution.
 */
export function randomProbes(loaded: LoadedConfig, spec: RandomSpec, first: { overrides: Record<string, unknown>; loaded: LoadedConfig }): Array<{ key: string; value: unknown; loaded: LoadedConfig }> {
  return spec.dims.flatMap((d) => {
    const values = d.dist.kind === 'choice' ? d.dist.values : [d.dist.lo, d.dist.hi];
    const at: ConfigPath = ['sweep', 'random', 'space', d.key];
    return values
      .filter((v) => JSON.stringify(v) !== JSON.stringify(first.overrides[d.key]))
      .map((value) => ({
        key: d.key,
        value,
        // the path was applied to trial `first` already: it applies again
        loaded: withOverrides(first.loaded, [{ path: d.path, value, origin: loaded.locate(at), keyOrigin: loaded.locateKey(at) }], () => undefined),
      }));
  });
}
