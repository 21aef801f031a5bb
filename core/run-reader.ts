/**
 * Reading run and sweep directories (the contract in docs/run-directory.md) for `ftrun diff`,
 * `ftrun ls` and leaderboards. Unreadable or malformed contract files are UserErrors (E_RUN)
 * naming the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors.js';
import { ENV_JSON, METRICS_JSON, RESOLVED_YAML, SWEEP_JSON, trialRunDir, type RunEnv, type RunMetrics, type SweepRecordAsRead } from './run/records.js';

export type DirKind = 'run' | 'sweep';

export interface RunDirInfo {
  kind: 'run';
  dir: string;
  /** metrics.json; absent while a run is in progress or when it died before writing it. */
  metrics?: RunMetrics;
  /** resolved.yaml ({} when absent). */
  config: Record<string, unknown>;
  /** env.json ({} when absent; fields may be missing from a damaged or older file). */
  env: Partial<RunEnv>;
}

export interface SweepTrialInfo {
  index: number;
  overrides: Record<string, unknown>;
  runDir: string;
  status: string;
  metrics?: RunMetrics;
}

export interface SweepDirInfo {
  kind: 'sweep';
  dir: string;
  name?: string;
  primary: string;
  trials: SweepTrialInfo[];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What a directory is: `sweep` (has sweep.json), `run` (has metrics.json; with `lenient`, also
 * env.json only: a run in progress or killed), or undefined.
 */
export function dirKind(dir: string, lenient = false): DirKind | undefined {
  if (!isDir(dir)) return undefined;
  if (existsSync(join(dir, SWEEP_JSON))) return 'sweep';
  if (existsSync(join(dir, METRICS_JSON))) return 'run';
  if (lenient && existsSync(join(dir, ENV_JSON))) return 'run';
  return undefined;
}

export function readJsonFile<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError('E_RUN', `${file}: cannot read (${(e as Error).message})`, { cause: e });
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UserError('E_RUN', `${file}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

function readOptionalJson<T extends object>(file: string): Partial<T> {
  return existsSync(file) ? readJsonFile<Partial<T>>(file) : {};
}

/** Validate the shape of a metrics.json object. */
function checkMetrics(file: string, m: unknown): RunMetrics {
  const o = m as Partial<RunMetrics> | null;
  if (!o || typeof o !== 'object' || !o.models || typeof o.models !== 'object' || typeof o.primary !== 'string') {
    throw new UserError('E_RUN', `${file}: expected {"models": {...}, "primary": "<metric>", "status": ...}`);
  }
  const dims = o.dims && typeof o.dims === 'object' ? { dims: o.dims } : {};
  const sets = o.sets && typeof o.sets === 'object' ? { ...(typeof o.primary_set === 'string' ? { primary_set: o.primary_set } : {}), sets: o.sets } : {};
  // the intervals of the Δs (core/run/intervals.ts), when the run recorded them
  const obj = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  const cis = Object.fromEntries((['delta_ci', 'delta_merged_ci', 'sets_delta_ci', 'ci'] as const).filter((k) => obj(o[k])).map((k) => [k, o[k]]));
  return { models: o.models, delta: o.delta ?? {}, ...cis, primary: o.primary, ...dims, ...sets, status: o.status ?? 'unknown' };
}

export function readMetrics(dir: string): RunMetrics | undefined {
  const file = join(dir, METRICS_JSON);
  return existsSync(file) ? checkMetrics(file, readJsonFile(file)) : undefined;
}

export function readRunDir(dir: string): RunDirInfo {
  const yamlFile = join(dir, RESOLVED_YAML);
  let config: Record<string, unknown> = {};
  if (existsSync(yamlFile)) {
    try {
      config = (parseYaml(readFileSync(yamlFile, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (e) {
      throw new UserError('E_RUN', `${yamlFile}: not valid YAML (${(e as Error).message})`, { cause: e });
    }
  }
  return { kind: 'run', dir, metrics: readMetrics(dir), config, env: readOptionalJson<RunEnv>(join(dir, ENV_JSON)) };
}

export function readSweepDir(dir: string): SweepDirInfo {
  const file = join(dir, SWEEP_JSON);
  const s = readJsonFile<SweepRecordAsRead>(file);
  if (!s || !Array.isArray(s.trials)) throw new UserError('E_RUN', `${file}: expected {"trials": [...], "primary": "<metric>"}`);
  const trials = s.trials.map((t): SweepTrialInfo => {
    // run_dir may be absolute (and stale if the sweep was moved) or relative to the sweep.
    const given = t.run_dir ? (isAbsolute(t.run_dir) ? t.run_dir : resolve(dir, t.run_dir)) : undefined;
    const runDir = given && isDir(given) ? given : trialRunDir(dir, t.index);
    const metrics = isDir(runDir) ? readMetrics(runDir) : undefined;
    return { index: t.index, overrides: t.overrides ?? {}, runDir, status: metrics?.status ?? t.status ?? 'unknown', metrics };
  });
  const primary = s.primary ?? trials.find((t) => t.metrics)?.metrics?.primary ?? 'mrr@1';
  return { kind: 'sweep', dir, name: s.name, primary, trials };
}

/** A run or sweep directory, or UserError E_RUN naming the path and what was expected. */
export function readRunOrSweep(path: string): RunDirInfo | SweepDirInfo {
  const dir = resolve(path);
  const kind = dirKind(dir);
  if (kind === 'sweep') return readSweepDir(dir);
  if (kind === 'run') return readRunDir(dir);
  const why = !existsSync(dir) ? 'does not exist' : !isDir(dir) ? 'is not a directory' : 'is not a run or sweep directory';
  throw new UserError('E_RUN', `${path} ${why}: expected a run directory (with ${METRICS_JSON}) or a sweep directory (with ${SWEEP_JSON})`);
}
