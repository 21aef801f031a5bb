/**
 * `ftrun run <config>`: one run, or — with a `sweep:` block — one run per trial under a sweep
 * directory, sequentially or in `--parallel N` worker processes, then a leaderboard.
 */
import { prepare } from './prepare.js';
import { displayPath } from '../config/located.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedConfig } from '../config/load.js';
import { hasSweep } from '../config/sweep.js';
import type { ExperimentConfig } from '../config/types.js';
import { formatTrialOverrides, toYaml, validateConfig, validateTrials } from '../config/validate.js';
import { UserError } from '../errors.js';
import { DirCreateError } from '../fsutil.js';
import { renderLeaderboardTable, writeLeaderboard, writeLeaderboardHtml } from '../leaderboard.js';
import type { LogOptions } from '../log.js';
import type { Registry } from '../registry.js';
import { ENV_JSON, LEADERBOARD_MD, METRICS_JSON, RESOLVED_YAML, SWEEP_DIR_PREFIX, trialRunDir, type RunMetrics } from '../run/records.js';
import type { RunLabels } from '../run-labels.js';
import { LOCK_WAIT_ENV, lockDir, QUEUE_TRIAL_LOCK_WAIT_S, type RunLock } from '../run/lock.js';
import { createUniqueDir } from '../run/rundir.js';
import { configHash, writeSweepRecord } from '../run/sweep-record.js';
import { runExperiment } from '../run/runner.js';
import { trialLine } from '../run-outcome.js';
import { trialFinished, trialStop } from '../run/sweep-stop.js';
import type { RunSummary } from '../types.js';

export interface RunArgs {
  file: string;
  sets: string[];
  runsDir: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  parallel: number;
  /** Internal: run only this sweep trial, into `trialDir` (used by --parallel workers). */
  trial?: number;
  trialDir?: string;
  argv: string[];
  /** --tag / --note: recorded in env.json (each trial's) and sweep.json. */
  labels?: RunLabels;
}

export interface IO {
  out: (s: string) => void;
  err: (s: string) => void;
  signal: AbortSignal;
}

/** Load, register custom plugins, and return the loaded file with its registry. */
export async function runCommand(args: RunArgs, io: IO): Promise<number> {
  const { loaded, registry } = await prepare(args.file, args.sets);
  const log: LogOptions = { quiet: args.quiet, verbose: args.verbose, write: io.err };

  if (hasSweep(loaded)) {
    const trials = validateTrials(loaded, registry);
    if (args.trial !== undefined) {
      const t = trials.find((x) => x.index === args.trial);
      if (!t || !args.trialDir) throw new UserError('E_USAGE', `no sweep trial ${args.trial}`);
      await runExperiment({
        loaded: t.loaded, config: t.config, registry, runDir: args.trialDir, runId: basename(resolve(args.trialDir, '..', '..')) + '-t' + t.index,
        ...trialStop(loaded.data, resolve(args.trialDir, '..', '..'), t.index, t.config.evaluate.primary),
        argv: args.argv, log, signal: io.signal, trial: { index: t.index, overrides: t.overrides }, ...(args.labels ? { labels: args.labels } : {}),
      });
      return 0;
    }
    return runSweep(args, io, loaded, registry, trials, log);
  }

  if (args.parallel > 1) {
    throw new UserError('E_USAGE', `ftrun run: --parallel ${args.parallel} runs sweep trials side by side, but ${displayPath(loaded.file)} has no sweep: section; drop --parallel`);
  }
  const config = validateConfig(loaded, registry);
  const { id, dir } = runsDirEntry(args.runsDir, config.name, '', toYaml(config as unknown as Record<string, unknown>));
  io.err(args.quiet ? '' : `run ${config.name} → ${dir}\n`);
  const summary = await runExperiment({ loaded, config, registry, runDir: dir, runId: id, argv: args.argv, log, signal: io.signal, ...(args.labels ? { labels: args.labels } : {}) });
  if (args.json) io.out(JSON.stringify(jsonSummary(summary), null, 2) + '\n');
  return summary.status === 'ok' ? 0 : 1;
}

/** A new run (or sweep) directory under --runs-dir; a runs directory that cannot hold one is a usage error naming the flag. */
export function runsDirEntry(runsDir: string, name: string, prefix: string, hashOf: string): { id: string; dir: string } {
  try {
    return createUniqueDir(resolve(runsDir, name), prefix, hashOf);
  } catch (e) {
    if (e instanceof DirCreateError) throw new UserError('E_USAGE', `--runs-dir ${runsDir}: cannot create ${e.path}: ${e.reason}`, { cause: e });
    throw e;
  }
}

function jsonSummary(s: RunSummary) {
  return { run_dir: s.runDir, name: s.name, status: s.status, primary: s.primary, models: s.models, delta: s.delta, ...(s.delta_ci ? { delta_ci: s.delta_ci } : {}), ...(s.sets ? { primary_set: s.primarySet, sets: s.sets } : {}), timings: s.timings };
}

interface TrialRecord {
  index: number;
  overrides: Record<string, unknown>;
  runDir: string;
  status: string;
  metrics?: RunMetrics;
}

type SweepTrial = { index: number; overrides: Record<string, unknown>; loaded: LoadedConfig; config: ExperimentConfig };

export async function runSweep(
  args: RunArgs,
  io: IO,
  loaded: LoadedConfig,
  registry: Registry,
  trials: SweepTrial[],
  log: LogOptions,
  /** ftrun resume <sweep-dir>: the sweep to continue (finished trials are kept, the others resumed or run). */
  existing?: { id: string; dir: string },
): Promise<number> {
  const sweep = existing ?? runsDirEntry(args.runsDir, trials[0]!.config.name, SWEEP_DIR_PREFIX, toYaml(loaded.data));
  // One process at a time in a sweep directory: a second `ftrun resume <sweep-dir>` is refused.
  const lock = lockDir(sweep.dir, existing ? 'ftrun resume' : 'ftrun run');
  try {
    return await runSweepTrials(args, io, loaded, registry, trials, log, sweep, existing !== undefined);
  } finally {
    lock.release();
  }
}

async function runSweepTrials(args: RunArgs, io: IO, loaded: LoadedConfig, registry: Registry, trials: SweepTrial[], log: LogOptions, sweep: { id: string; dir: string }, existing: boolean): Promise<number> {
  const name = trials[0]!.config.name;
  const primary = trials[0]!.config.evaluate.primary;
  const records: TrialRecord[] = trials.map((t) => ({
    index: t.index,
    overrides: t.overrides,
    runDir: trialRunDir(sweep.dir, t.index),
    status: 'pending',
  }));
  const save = () => {
    // Fields this sweep does not own (a prepared or queued sweep's) are kept.
    writeSweepRecord(sweep.dir, {
      name,
      config_file: loaded.file,
      // what `ftrun resume <sweep-dir>` needs to expand the same trials again (and to see that they are the same)
      sets: args.sets,
      primary,
      trials: records.map((r, i) => ({ index: r.index, overrides: r.overrides, run_dir: r.runDir, status: r.status, config_hash: configHash(trials[i]!.config) })),
      ...(args.labels?.tags.length ? { tags: args.labels.tags } : {}),
      ...(args.labels?.note !== undefined ? { note: args.labels.note } : {}),
    });
    return writeLeaderboard(sweep.dir, records, primary);
  };
  // Resuming: a trial that finished (ok, or stopped by sweep.stop) is kept as it is.
  for (const rec of records) {
    const m = join(rec.runDir, METRICS_JSON);
    if (existing && existsSync(m)) {
      const metrics = JSON.parse(readFileSync(m, 'utf8')) as RunMetrics;
      if (trialFinished(metrics.status)) (rec.metrics = metrics), (rec.status = metrics.status);
    }
  }
  save();
  if (!args.quiet) io.err(`sweep ${name}: ${trials.length} trials → ${sweep.dir}\n`);

  const runOne = async (i: number) => {
    const t = trials[i]!;
    const rec = records[i]!;
    if (trialFinished(rec.status)) return;
    rec.status = 'running';
    mkdirSync(rec.runDir, { recursive: true });
    if (!args.quiet) io.err(`trial ${t.index}/${trials.length}: ${formatTrialOverrides(t.overrides)}\n`);
    let lock: RunLock | undefined;
    const began = performance.now();
    let failure: string | undefined;
    try {
      // Locked before it is looked at: no other process is in the trial (E_LOCKED otherwise).
      lock = lockDir(rec.runDir, 'ftrun run');
      // A trial that started before (its run directory has env.json) continues from its checkpoint.
      const started = startedBefore(rec.runDir);
      if (args.parallel > 1 && !started) {
        lock.release(); // the worker process takes it
        await runWorker(args, t.index, rec.runDir, io);
      } else {
        await runExperiment({
          loaded: t.loaded, config: t.config, registry: registry.clone(), lock,
          runDir: rec.runDir, runId: `${sweep.id}-t${t.index}`, argv: args.argv, log: { ...log, quiet: true }, signal: io.signal,
          trial: { index: t.index, overrides: t.overrides },
          ...trialStop(loaded.data, sweep.dir, t.index, primary),
          ...(started ? { resume: true } : {}),
          ...(args.labels ? { labels: args.labels } : {}),
        });
      }
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e); // in the trial's line below (its env.json's error when it has one)
    } finally {
      lock?.release();
    }
    const metricsFile = join(rec.runDir, METRICS_JSON);
    if (existsSync(metricsFile)) {
      rec.metrics = JSON.parse(readFileSync(metricsFile, 'utf8')) as RunMetrics;
      rec.status = String(rec.metrics.status ?? 'failed');
    } else rec.status = io.signal.aborted ? 'interrupted' : 'failed';
    save();
    // one line per finished trial, in every mode: number, status (and stage), primary metric, duration
    const seconds = (performance.now() - began) / 1000;
    if (!args.quiet) io.err(`${trialLine(`trial ${t.index}/${trials.length}`, rec.runDir, { primary, status: rec.status, seconds, ...(failure !== undefined ? { fallback: failure } : {}) })}\n`);
  };

  const queue = trials.map((_, i) => i);
  const workers = Array.from({ length: Math.max(1, Math.min(args.parallel, trials.length)) }, async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      if (io.signal.aborted) {
        records[i]!.status = 'interrupted';
        continue;
      }
      await runOne(i);
    }
  });
  await Promise.all(workers);
  const board = save();
  await writeLeaderboardHtml(sweep.dir, { primary, trials: board });
  if (args.json) {
    io.out(
      JSON.stringify(
        {
          sweep_dir: sweep.dir,
          primary,
          trials: records.map((r) => ({ index: r.index, overrides: r.overrides, run_dir: r.runDir, status: r.status, models: r.metrics?.models })),
        },
        null,
        2,
      ) + '\n',
    );
  }
  if (!args.quiet) {
    // The ranking by the primary metric; every metric is in leaderboard.md.
    const compact = board.map((e) => ({ ...e, metrics: {} }));
    io.err(`\n${renderLeaderboardTable(compact, primary, 'text')}\nleaderboard: ${join(sweep.dir, LEADERBOARD_MD)}\n`);
  }
  return records.every((r) => trialFinished(r.status)) ? 0 : 1;
}

/** The compiled CLI entry used for worker processes (also when running from TypeScript sources). */
export function cliEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return resolve(here, '..', '..', 'cli', 'main.js');
  return resolve(here, '..', '..', '..', 'dist', 'core', 'cli', 'main.js');
}

/**
 * In a sweep worker: stop when the parent is gone (its IPC channel closes, e.g. the parent was
 * SIGKILLed). A gone parent cannot collect the result, so the trial is left resumable: abort
 * gracefully (checkpoint, status interrupted), and quit at once if that takes more than 10 s.
 */
export function watchParent(abort: () => void): void {
  if (typeof process.send !== 'function') return;
  process.channel?.unref();
  process.on('disconnect', () => {
    abort();
    setTimeout(() => process.exit(1), 10_000).unref();
  });
}

/**
 * `ftrun run <file> [--set …] <trialArgs> --quiet` as a child process tied to this one: an IPC
 * channel closes when this process dies (even by SIGKILL) and the child stops (see watchParent);
 * aborting `signal` interrupts it. Resolves with its exit code and stderr (also passed to `onStderr`).
 */
export function spawnTrial(file: string, sets: string[], trialArgs: string[], signal: AbortSignal, onStderr?: (text: string) => void, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const argv = [cliEntry(), 'run', resolve(file), ...trialArgs, '--quiet'];
  for (const s of sets) argv.push('--set', s);
  return new Promise((resolvePromise, reject) => {
    // A queue worker's trial waits for the process a dead worker may have left in it (see FTRUN_LOCK_WAIT_S).
    const env = { ...process.env, [LOCK_WAIT_ENV]: process.env[LOCK_WAIT_ENV] ?? String(QUEUE_TRIAL_LOCK_WAIT_S), ...extraEnv };
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(d.toString());
    });
    const onAbort = () => child.kill('SIGINT');
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code) => {
      signal.removeEventListener('abort', onAbort);
      resolvePromise({ code, stderr });
    });
  });
}

async function runWorker(args: RunArgs, index: number, dir: string, io: IO): Promise<void> {
  const { code, stderr } = await spawnTrial(args.file, args.sets, ['--_trial', String(index), '--_run-dir', dir, ...labelArgs(args.labels)], io.signal);
  if (code !== 0) throw new Error(stderr.trim() || `worker exited with ${code}`);
}

/** --tag / --note flags that give a trial's worker process the sweep's labels. */
function labelArgs(labels: RunLabels | undefined): string[] {
  if (!labels) return [];
  return [...labels.tags.flatMap((t) => ['--tag', t]), ...(labels.note !== undefined ? ['--note', labels.note] : [])];
}

/** Whether a trial's run directory holds an earlier attempt, which then continues from its checkpoint. */
export function startedBefore(runDir: string): boolean {
  return existsSync(join(runDir, ENV_JSON)) && existsSync(join(runDir, RESOLVED_YAML));
}
