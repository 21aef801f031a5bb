/**
 * One experiment run: dataset → split → mine → evaluate each model in `evaluate.compare`
 * → (train) → compare → sinks, writing the run directory contract as it goes. The stages are
 * functions in stages.ts; what the run holds open is one RunResources, released in finishRun.
 *
 * Every file is written atomically, so an interrupted or failed run leaves valid files and its
 * status in env.json / metrics.json.
 */
import { rmdirSync, rmSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/types.js';
import { baseDirOf } from '../config/located.js';
import { redactArgv, redactConfig } from '../config/output.js';
import { pluginModuleFile } from '../config/plugins.js';
import { toYaml } from '../config/validate.js';
import { UserError } from '../errors.js';
import { makeDirs, removeTemporaries, reserveSpace, writeFileAtomic, writeJsonAtomic } from '../fsutil.js';
import type { LogOptions } from '../log.js';
import type { Registry } from '../registry.js';
import { methodOf } from '../train/methods.js';
import type { RunSummary } from '../types.js';
import { FTRUN_VERSION } from '../version.js';
import { TrialStopped, type Pruner } from '../train/early-stopping.js';
import { makeRunContext } from './context.js';
import { RunEvents } from './events.js';
import { diskFullError, isNoSpace, lockDir, type RunLock } from './lock.js';
import { CHECKPOINTS_DIR, ENV_JSON, METRICS_JSON, PER_QUERY_JSONL, RESOLVED_YAML, type RunEnv, type RunMetrics } from './records.js';
import type { RunLabels } from '../run-labels.js';
import { namePluginError } from './plugin-errors.js';
import { RunResources } from './resources.js';
import { readPerQueryRows, runIntervals, type RunIntervals } from './intervals.js';
import { embedGuide, evaluateBase, Interrupted, loadData, mineExamples, openPlugins, openSinks, trainAndEvaluate, type Run } from './stages.js';

export interface RunRequest {
  loaded: LoadedConfig;
  config: ExperimentConfig;
  registry: Registry;
  runDir: string;
  runId: string;
  argv: string[];
  log: LogOptions;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Continue an interrupted run in `runDir` (ftrun resume): training restarts from its last checkpoint. */
  resume?: boolean;
  /** The experiment file to record in env.json (default: the loaded file; resume passes the original). */
  configFile?: string;
  /** When the run is a sweep trial: its number and overrides (plugins see them in RunContext.trial). */
  trial?: { index: number; overrides: Record<string, unknown> };
  /** `ftrun run --tag` / `--note`, recorded in env.json. */
  labels?: RunLabels;
  /** The lock of `runDir`, when the caller took it (and releases it); otherwise the run takes and releases it. */
  lock?: RunLock;
  /** A sweep trial under sweep.stop: its stopping rule, asked after each evaluation during training. */
  prune?: Pruner;
}

export async function runExperiment(req: RunRequest): Promise<RunSummary> {
  const lock = holdRunDir(req);
  try {
    return await runHeld(req);
  } finally {
    lock?.release();
  }
}

/**
 * Before anything is written in the run directory: lock it (unless the caller holds its lock;
 * E_LOCKED when another process does) and hold back RESERVE_BYTES there. A disk without that much
 * room ends the run here, saying so, with the directory's records as they were (the empty
 * directory of a new run is removed). Returns the lock it took.
 */
function holdRunDir(req: RunRequest): RunLock | undefined {
  makeDirs(req.runDir);
  const lock = req.lock ? undefined : lockDir(req.runDir, req.resume ? 'ftrun resume' : 'ftrun run');
  try {
    reserveSpace(join(req.runDir, RESERVE), RESERVE_BYTES);
    return lock;
  } catch (e) {
    lock?.release();
    let removed = false;
    if (!req.resume) {
      try {
        rmdirSync(req.runDir); // only if empty: nothing of this run was written
        removed = true;
      } catch {
        /* not empty: kept */
      }
    }
    if (!isNoSpace(e)) throw e;
    throw diskFullError(e, req.runDir, { why: `a run holds back ${RESERVE_BYTES / 1024} KiB in its directory before it starts, to record how it ends`, removed });
  }
}

async function runHeld(req: RunRequest): Promise<RunSummary> {
  const run = openRun(req);
  let failure: unknown;
  let working = false; // encoding, evaluating or training began: a failure after it leaves something to resume
  try {
    await openSinks(run);
    const plugins = await openPlugins(run);
    const { data, split } = await loadData(run, plugins);
    working = true;
    const { examples, baseEncoder: minedWith } = await mineExamples(run, plugins, data, split);
    // A loss's guide model (gist) embeds the training texts now, before the base model is evaluated.
    const baseEncoder = await embedGuide(run, plugins, examples, minedWith);
    const keptBase = await evaluateBase(run, plugins.backend, data, split, baseEncoder);
    if (methodOf(run.config).trains) await trainAndEvaluate(run, plugins, data, split, examples, keptBase);
    run.summary.delta = delta(run.summary.models);
    if (run.summary.models.merged && run.summary.models.base) run.summary.delta_merged = delta(run.summary.models, 'merged');
    // each Δ's interval and p-value, from the per-query results the evaluations wrote
    Object.assign(run.summary, runIntervals(readPerQueryRows(req.runDir)));
    run.summary.status = 'ok';
  } catch (e) {
    failure = e;
    run.summary.status = e instanceof TrialStopped ? 'stopped' : e instanceof Interrupted || req.signal.aborted ? 'interrupted' : 'failed';
    if (e instanceof TrialStopped) run.summary.earlyStop = e.record;
    // A user error found while opening plugins or loading data: fix it and run again (no `ftrun resume` hint).
    if (!working && e instanceof UserError) run.summary.resumable = false;
  }
  return finishRun(run, failure);
}

/** The run's context and records, with resolved.yaml and env.json written (status `running`). */
function openRun(req: RunRequest): Run {
  const { config, registry, runDir, runId, loaded } = req;
  const started = new Date();
  const timings: Record<string, number> = {};
  const env: RunEnv = {
    ftrun_version: FTRUN_VERSION,
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    started_at: started.toISOString(),
    finished_at: null,
    status: 'running',
    seed: config.seed,
    run_id: runId,
    // The experiment file as the user named it (kept across resumes, which load resolved.yaml) and
    // the directory its relative paths resolve against.
    config_file: req.configFile ?? loaded.file,
    base_dir: baseDirOf(loaded),
    argv: redactArgv(req.argv),
    timings,
    encoders: {},
    ...(req.labels?.tags.length ? { tags: req.labels.tags } : {}),
    ...(req.labels?.note !== undefined ? { note: req.labels.note } : {}),
  };
  const ctx = makeRunContext(loaded, { runDir, runId, resumed: req.resume ?? false, seed: config.seed, log: req.log, signal: req.signal, ...(req.trial ? { trial: req.trial } : {}) });
  const summary: RunSummary = { name: config.name, runDir, status: 'failed', primary: config.evaluate.primary, models: {}, delta: {}, timings };

  // Plugin module paths are made absolute so that `ftrun resume` can load them from resolved.yaml.
  const recorded = { ...config, plugins: config.plugins.map((p, i) => pluginPath(loaded, p, i)) };
  writeFileAtomic(join(runDir, RESOLVED_YAML), toYaml(redactConfig(recorded, loaded)));
  if (req.resume) {
    env.resumed_at = started.toISOString();
    // Leftovers of the interrupted attempt: half-written files and model directories.
    for (const dir of [runDir, join(runDir, CHECKPOINTS_DIR)]) removeTemporaries(dir);
    rmSync(join(runDir, PER_QUERY_JSONL), { force: true }); // evaluations are redone
  }
  writeJsonAtomic(join(runDir, ENV_JSON), env);
  return {
    config, loaded, registry, ctx, env, summary, timings,
    events: new RunEvents(runDir, ctx.logger),
    res: new RunResources(registry, ctx),
    ...(req.prune ? { prune: req.prune } : {}),
  };
}

/**
 * Record how the run ended, whatever happened: release its resources (and the disk space held
 * back), write metrics.json, the last event, let each sink finish, write env.json. Each record is
 * attempted even when another could not be written (a full disk). Throws the run's failure.
 */
async function finishRun(run: Run, failure: unknown): Promise<RunSummary> {
  const { ctx, env, summary } = run;
  const runDir = ctx.runDir;
  await run.events.flush().catch(() => undefined); // training events of a stage that failed
  await run.res.close();
  // The space held back at the start, and what a failed write left, make room for the record of how the run ended.
  rmSync(join(runDir, RESERVE), { force: true });
  if (failure) for (const dir of [runDir, join(runDir, CHECKPOINTS_DIR)]) removeTemporaries(dir);
  const finishing: unknown[] = [];
  const attempt = async (fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      finishing.push(e);
    }
  };
  const writeMetrics = () =>
    writeJsonAtomic(join(runDir, METRICS_JSON), { models: summary.models, delta: summary.delta, ...(summary.delta_merged ? { delta_merged: summary.delta_merged } : {}), ...ciFields(summary), primary: summary.primary, ...(summary.dims ? { dims: summary.dims } : {}), ...(summary.sets ? { primary_set: summary.primarySet, sets: summary.sets } : {}), ...(summary.earlyStop ? { early_stop: summary.earlyStop } : {}), status: summary.status } satisfies RunMetrics);
  const errorOf = (e: unknown) => ({ message: e instanceof Error ? e.message : String(e), code: e instanceof UserError ? e.code : undefined });

  env.status = summary.status;
  env.finished_at = new Date().toISOString();
  if (failure && summary.status === 'failed') env.error = errorOf(failure);
  // where a run that did not finish ended: in the stage that was open, or after the last one that ended
  const stage = run.events.stage;
  const after = run.events.lastStage;
  if (summary.status !== 'ok' && stage !== undefined) env.stage = stage;
  else if (summary.status !== 'ok' && after !== undefined) env.after_stage = after;
  if (summary.earlyStop) env.early_stop = summary.earlyStop;
  await attempt(writeMetrics);
  await attempt(() => run.events.emit('run_end', { status: summary.status }));
  // env.json as the run ended (status, finish time, error, timings, encoders) before the sinks close: their reports show it
  await attempt(() => writeJsonAtomic(join(runDir, ENV_JSON), env));
  for (const s of run.res.sinks) {
    try {
      await s.sink.close?.(summary);
    } catch (e) {
      const named = namePluginError(e, s.ref, 'close');
      // One failure is the run's; a sink failing after it is not lost either.
      if (failure === undefined) failure = named;
      else ctx.logger.warn(named instanceof Error ? named.message : String(named));
      // A sink that could not finish fails the run: the files say so, and it can be resumed.
      if (summary.status === 'ok') {
        summary.status = 'failed';
        env.status = 'failed';
        env.error = errorOf(named);
        await attempt(writeMetrics);
      }
    }
  }
  await attempt(() => writeJsonAtomic(join(runDir, ENV_JSON), env));
  for (const e of new Set(finishing.map((e) => (e instanceof Error ? e.message : String(e))))) {
    ctx.logger.warn(`the end of the run could not be fully recorded: ${e}`);
  }
  if (failure && !(failure instanceof Interrupted) && !(failure instanceof TrialStopped)) throw failure;
  if (finishing.length > 0) throw finishing[0];
  return summary;
}

/**
 * Disk space a run holds back from its start (see reserveSpace) and releases at its end, so that
 * a run that fills the disk still writes its status, metrics and report.
 */
const RESERVE = '.ftrun-reserve';
const RESERVE_BYTES = 256 * 1024;

/** A plugin module as loadCustomPlugins resolves it (a file against the file that lists it, cwd for --set; a package to its entry file). */
function pluginPath(loaded: LoadedConfig, p: string, i: number): string {
  const origin = loaded.locate(['plugins', i]).file;
  return pluginModuleFile(p, origin === '--set' ? process.cwd() : dirname(origin)) ?? p;
}


/** `model` − base per metric (default: the fine-tuned model); empty unless both were evaluated. */
function delta(models: Record<string, Record<string, number>>, model = 'finetuned'): Record<string, number> {
  const base = models.base;
  const tuned = models[model];
  if (!base || !tuned) return {};
  const out: Record<string, number> = {};
  for (const k of Object.keys(base)) if (k in tuned) out[k] = tuned[k]! - base[k]!;
  return out;
}

/** metrics.json's interval fields of the summary (those it has). */
function ciFields(s: RunSummary): RunIntervals {
  return {
    ...(s.delta_ci ? { delta_ci: s.delta_ci } : {}),
    ...(s.delta_merged_ci ? { delta_merged_ci: s.delta_merged_ci } : {}),
    ...(s.sets_delta_ci ? { sets_delta_ci: s.sets_delta_ci } : {}),
    ...(s.ci ? { ci: s.ci } : {}),
  };
}
