/**
 * `sweep.stop: median` — the median stopping rule of Optuna's MedianPruner and Ray Tune's
 * MedianStoppingRule, on the evaluations on the test split that each trial makes while it trains
 * (training.eval_every). After each evaluation (but the last) a trial records its primary metric
 * at that step in the sweep's shared record, then reads what the other trials recorded at the same
 * step: when at least `min_trials` others reached that step (default 2) and the step is past
 * `grace_steps` (default 0), a value below their median stops the trial. It ends with status
 * `stopped` (not `failed`): its run directory keeps what it wrote (the checkpoint at that step,
 * its events, the base model's metrics), and the sweep's exit status counts it as finished.
 *
 * The shared record of intermediate values:
 * - sequential and --parallel sweeps, and array jobs on a shared filesystem: one file per trial in
 *   the sweep directory, `intermediate/<trial>.json` ({@link IntermediateFile}), written atomically
 *   by the trial alone and read by the others;
 * - a sweep on a Redis queue: one hash per step, `ftrun:intermediate:<sweep-id>:<step>`
 *   (trial → value, expiring 30 days after its last write), on the queue's Redis, so that workers
 *   on machines that share nothing but Redis compare their trials.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeDirs, writeJsonAtomic } from '../fsutil.js';
import type { Pruner, PruneVerdict } from '../train/early-stopping.js';
import { INTERMEDIATE_DIR } from './records.js';
import { readStopRule, type StopRule } from '../config/sweep-stop.js';

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Where the trials of a sweep record their intermediate values and read each other's. */
export interface IntermediateStore {
  /** Record `trial`'s `value` at `step`; returns the values the other trials recorded at that step. */
  report(trial: number, step: number, value: number): Promise<number[]>;
  close?(): Promise<void>;
}

/** `intermediate/<trial>.json` in a sweep directory. */
export interface IntermediateFile {
  trial: number;
  metric: string;
  /** Step → the metric there. */
  values: Record<string, number>;
}

/** The intermediate values in the sweep directory (sequential, --parallel, array jobs on a shared filesystem). */
export class FileIntermediateStore implements IntermediateStore {
  private readonly dir: string;
  private own: IntermediateFile | undefined;

  constructor(
    sweepDir: string,
    private readonly metric: string,
  ) {
    this.dir = join(sweepDir, INTERMEDIATE_DIR);
  }

  async report(trial: number, step: number, value: number): Promise<number[]> {
    makeDirs(this.dir);
    const file = join(this.dir, `${trial}.json`);
    // a resumed trial keeps the values its earlier attempt recorded
    this.own ??= readIntermediate(file) ?? { trial, metric: this.metric, values: {} };
    this.own.values[String(step)] = value;
    writeJsonAtomic(file, this.own);
    const others: number[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\d+\.json$/.test(name) || name === `${trial}.json`) continue;
      const v = readIntermediate(join(this.dir, name))?.values[String(step)];
      if (typeof v === 'number' && Number.isFinite(v)) others.push(v);
    }
    return others;
  }
}

function readIntermediate(file: string): IntermediateFile | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as IntermediateFile;
    return v && typeof v === 'object' && v.values && typeof v.values === 'object' ? v : undefined;
  } catch {
    return undefined; // being replaced (atomic rename) or damaged: not counted
  }
}

/** The Redis hash of one step of a sweep's intermediate values. */
export const redisStepKey = (sweepDir: string, step: number): string => `ftrun:intermediate:${basename(sweepDir)}:${step}`;

/** How long a sweep's intermediate values stay on Redis after their last write: 30 days. */
export const INTERMEDIATE_TTL_S = 30 * 24 * 3600;

/** The intermediate values on the queue's Redis (a sweep on a queue). */
export class RedisIntermediateStore implements IntermediateStore {
  private client: import('ioredis').Redis | undefined;

  constructor(
    private readonly connection: { host: string; port: number; db?: number; username?: string; password?: string },
    private readonly sweepDir: string,
  ) {}

  async report(trial: number, step: number, value: number): Promise<number[]> {
    if (!this.client) {
      const { Redis } = await import('ioredis');
      this.client = new Redis({ ...this.connection, maxRetriesPerRequest: 3, lazyConnect: false });
      this.client.on('error', () => {}); // a command that fails says why
    }
    const key = redisStepKey(this.sweepDir, step);
    // recorded and read in one transaction; the hash expires INTERMEDIATE_TTL_S after its last write
    const replies = await this.client.multi().hset(key, String(trial), String(value)).expire(key, INTERMEDIATE_TTL_S).hgetall(key).exec();
    const failed = replies?.find(([e]) => e);
    if (!replies || failed) throw failed?.[0] ?? new Error(`Redis did not record ${key}`);
    const all = replies[2]![1] as Record<string, string>;
    return Object.entries(all)
      .filter(([t]) => t !== String(trial))
      .map(([, v]) => Number(v))
      .filter((v) => Number.isFinite(v));
  }

  async close(): Promise<void> {
    this.client?.disconnect();
  }
}

/**
 * The pruner of trial `trial` under `rule`: after each evaluation, record the trial's `metric` and
 * stop it when it is below the median of at least min_trials other trials at that step. With
 * `warn`, a shared record that cannot be reached (Redis away) does not end the trial: it is said
 * once and the trial goes on unjudged at that step; without, the error ends the run.
 */
export function medianPruner(rule: StopRule, store: IntermediateStore, trial: number, metric: string, warn?: (message: string) => void): Pruner {
  let warned = false;
  return async (step, metrics) => {
    const value = metrics[metric];
    if (value === undefined || !Number.isFinite(value)) return undefined;
    let others: number[];
    try {
      others = await store.report(trial, step, value);
    } catch (e) {
      if (!warn) throw e;
      if (!warned) warn(`sweep.stop: cannot record or read the trials' values at step ${step} (${e instanceof Error ? e.message : String(e)}); trial ${trial} goes on without being compared until it can`);
      warned = true;
      return undefined;
    }
    if (step <= rule.grace_steps || others.length < rule.min_trials) return undefined;
    const m = median(others);
    const verdict: PruneVerdict = { rule: 'median', metric, value, median: m, trials: others.length };
    return value < m ? verdict : undefined;
  };
}

/** Whether a trial's status means it finished: `ok`, or `stopped` by sweep.stop (neither is run again by `ftrun resume <sweep-dir>`). */
export const trialFinished = (status: string | undefined): boolean => status === 'ok' || status === 'stopped';

/**
 * The RunRequest field of sweep trial `trial` under the sweep's `sweep.stop` (`{}` without one):
 * its pruner over `store`, by default the intermediate files in the sweep directory.
 */
export function trialStop(sweepData: Record<string, unknown>, sweepDir: string, trial: number, metric: string, store?: IntermediateStore, warn?: (message: string) => void): { prune?: Pruner } {
  const rule = readStopRule(sweepData);
  if (!rule) return {};
  return { prune: medianPruner(rule, store ?? new FileIntermediateStore(sweepDir, metric), trial, metric, warn) };
}
