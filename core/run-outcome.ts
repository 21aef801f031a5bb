/**
 * How a run ended, for the reports (report.md, report.html), the leaderboards and the sweep's
 * per-trial lines: its status, and for a run that did not finish the stage it was in and why
 * (env.json `status`, `stage`, `error`, `early_stop`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatNumber, formatSigned, metricLabel, modelLabel, rankingModel } from './report.js';
import { ENV_JSON, METRICS_JSON, type RunEnv, type RunMetrics } from './run/records.js';

export interface RunOutcome {
  status: string;
  /** The stage the run was in when it ended (env.json `stage`), for a run that did not finish. */
  stage?: string;
  /** The last stage that ended, for a run that did not finish between two stages (env.json `after_stage`). */
  after_stage?: string;
  /** Why it ended: the error of a failed run, the stopping rule's verdict of a stopped one. */
  message?: string;
}

/** The run's env.json, or undefined when it has none (or it cannot be read). */
export function readRunEnv(runDir: string): Partial<RunEnv> | undefined {
  const f = join(runDir, ENV_JSON);
  if (!existsSync(f)) return undefined;
  try {
    const env = JSON.parse(readFileSync(f, 'utf8')) as unknown;
    return env && typeof env === 'object' ? (env as Partial<RunEnv>) : undefined;
  } catch {
    return undefined;
  }
}

/** How the run whose env.json is `env` ended; `status` (e.g. metrics.json's) wins over env.json's. */
export function runOutcome(env: Partial<RunEnv> | undefined, status?: string): RunOutcome {
  const s = status ?? (typeof env?.status === 'string' ? env.status : 'unknown');
  if (s === 'ok' || !env) return { status: s };
  const stage = typeof env.stage === 'string' ? env.stage : undefined;
  const after = typeof env.after_stage === 'string' ? env.after_stage : undefined;
  let message: string | undefined;
  if (env.error && typeof env.error.message === 'string') message = env.error.message;
  else if (s === 'stopped' && env.early_stop) {
    const e = env.early_stop;
    message =
      e.rule === 'median'
        ? `stopped at step ${e.step}: ${e.metric} ${e.value.toFixed(4)} was below the median ${e.median?.toFixed(4) ?? '?'} of ${e.trials ?? 'the'} other trials at that step (sweep.stop: median)`
        : `stopped at step ${e.step}: ${e.metric} ${e.value.toFixed(4)} (rule ${e.rule})`;
  }
  return { status: s, ...(stage !== undefined ? { stage } : after !== undefined ? { after_stage: after } : {}), ...(message !== undefined ? { message } : {}) };
}

/** `failed in stage train` / `failed after stage dataset` / `interrupted` / `ok`: the status and, for a run that did not finish, where. */
export function outcomeHead(o: RunOutcome): string {
  if (o.status === 'ok') return o.status;
  if (o.stage !== undefined) return `${o.status} in stage ${o.stage}`;
  if (o.after_stage !== undefined) return `${o.status} after stage ${o.after_stage}`;
  return o.status;
}

/** The outcome fields of a leaderboard entry (or env.json), as a RunOutcome. */
export function outcomeOf(e: { status: string; stage?: string; after_stage?: string; error?: string }): RunOutcome {
  return { status: e.status, ...(e.stage !== undefined ? { stage: e.stage } : {}), ...(e.after_stage !== undefined ? { after_stage: e.after_stage } : {}), ...(e.error !== undefined ? { message: e.error } : {}) };
}

/** The outcome on one line: `failed in stage train: <the error's first line>`. */
export function outcomeLine(o: RunOutcome, max = 160): string {
  const head = outcomeHead(o);
  if (!o.message) return head;
  const first = o.message.split('\n')[0]!.trim();
  const text = first.length > max ? `${first.slice(0, max - 1)}…` : first;
  return `${head}: ${text}`;
}

/** A sweep trial's leaderboard fields for a trial that did not finish: `stage` and `error` (its env.json), none for one that did. */
export function trialOutcomeFields(runDir: string, status: string): { stage?: string; after_stage?: string; error?: string } {
  if (status === 'ok' || status === 'pending' || status === 'running' || status === 'queued') return {};
  const o = runOutcome(readRunEnv(runDir), status);
  return { ...(o.stage !== undefined ? { stage: o.stage } : {}), ...(o.after_stage !== undefined ? { after_stage: o.after_stage } : {}), ...(o.message !== undefined ? { error: o.message } : {}) };
}

/**
 * The line a sweep prints when a trial finishes, in every mode (sequential, --parallel, a queue's
 * follower and its workers): `trial 2/4 ok: MRR@1 0.712 (Δ +0.050), 12.3 s`, or for a trial that
 * did not finish `trial 3/4 failed in stage train: MRR@1 —, 4.1 s: <the error>` (a multi-line
 * error continues on its own lines, whole). From the trial's metrics.json and env.json (the
 * duration: env.json's start, or resume, to its finish); `seconds` stands in where the records lack
 * it, `message` (the error as the trial process printed it) is preferred to env.json's, `fallback`
 * is used where env.json has none (a trial that failed before it started). Undefined
 * when the trial's directory holds neither record and no `status` is given. `withMessage: false`:
 * no error (a queue worker, whose trial printed it just before).
 */
export function trialLine(label: string, runDir: string, opts: { primary?: string; status?: string; seconds?: number; message?: string; fallback?: string; withMessage?: boolean } = {}): string | undefined {
  const env = readRunEnv(runDir);
  let metrics: RunMetrics | undefined;
  try {
    const f = join(runDir, METRICS_JSON);
    if (existsSync(f)) metrics = JSON.parse(readFileSync(f, 'utf8')) as RunMetrics;
  } catch {
    metrics = undefined;
  }
  if (!env && !metrics && opts.status === undefined) return undefined;
  const status = typeof metrics?.status === 'string' ? metrics.status : typeof env?.status === 'string' && env.status !== 'running' ? env.status : opts.status ?? 'unknown';
  const o = runOutcome(env, status);
  const primary = metrics?.primary ?? opts.primary;
  const parts: string[] = [];
  if (primary) {
    const model = metrics?.models ? rankingModel(metrics.models) : undefined;
    const value = model ? metrics!.models[model]?.[primary] : undefined;
    const d = metrics?.delta?.[primary];
    parts.push(`${metricLabel(primary)} ${formatNumber(value)}${model && model !== 'finetuned' && value !== undefined ? ` (${modelLabel(model)})` : ''}${d !== undefined ? ` (Δ ${formatSigned(d)})` : ''}`);
  }
  const from = env?.resumed_at ?? env?.started_at;
  const seconds = env?.finished_at && from ? (Date.parse(env.finished_at) - Date.parse(from)) / 1000 : opts.seconds;
  if (seconds !== undefined && Number.isFinite(seconds)) parts.push(`${seconds.toFixed(1)} s`);
  const message = status !== 'ok' && opts.withMessage !== false ? (opts.message ?? o.message ?? opts.fallback)?.replace(/^\s*\n|\s+$/g, '') : undefined;
  return `${label} ${outcomeHead(o)}${parts.length ? `: ${parts.join(', ')}` : ''}${message ? `: ${message}` : ''}`;
}
