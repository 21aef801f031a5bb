/**
 * `ftrun resume <run-dir>`: continue an interrupted or failed run in its own directory, from the
 * config it recorded (resolved.yaml) — training restarts from its latest checkpoint, evaluations
 * are redone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { redactedPaths, REDACTED } from '../config/output.js';
import { formatPath } from '../config/path.js';
import { displayPath } from '../config/located.js';
import { validateConfig, validateTrials } from '../config/validate.js';
import { UserError } from '../errors.js';
import { ENV_JSON, RESOLVED_YAML, SWEEP_JSON, trialRunDir, type RunEnv, type SweepRecordAsRead } from '../run/records.js';
import { lockDir, type RunLock } from '../run/lock.js';
import { runExperiment } from '../run/runner.js';
import { configHash } from '../run/sweep-record.js';
import { trialFinished } from '../run/sweep-stop.js';
import { labelsOf } from '../run-labels.js';
import { prepare } from './prepare.js';
import { runSweep, type IO } from './run.js';

export interface ResumeArgs {
  runDir: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  argv: string[];
}

/** A JSON object file ftrun wrote; a damaged one is an E_RUN error naming it (`message(why)`). */
function readRecord<T>(file: string, message: (why: string) => string): T {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as T;
  } catch (e) {
    throw new UserError('E_RUN', `${file}: ${message(e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message)}`);
  }
}

export async function resumeCommand(args: ResumeArgs, io: IO): Promise<number> {
  const runDir = resolve(args.runDir);
  if (existsSync(join(runDir, SWEEP_JSON))) return resumeSweep(args, runDir, io);
  const resolvedFile = join(runDir, RESOLVED_YAML);
  const envFile = join(runDir, ENV_JSON);
  if (!existsSync(resolvedFile) || !existsSync(envFile)) {
    throw new UserError('E_RUN', `${args.runDir}: not a run or sweep directory (expected ${RESOLVED_YAML} and ${ENV_JSON}, or ${SWEEP_JSON}, in it)`);
  }
  // One process at a time: a run that is still running is refused (E_LOCKED) before anything is read or changed.
  const lock = lockDir(runDir, 'ftrun resume');
  try {
    return await resumeRun(args, runDir, resolvedFile, envFile, lock, io);
  } finally {
    lock.release();
  }
}

async function resumeRun(args: ResumeArgs, runDir: string, resolvedFile: string, envFile: string, lock: RunLock, io: IO): Promise<number> {
  const env = readRecord<Partial<RunEnv>>(
    envFile,
    (why) => `cannot resume: the run's ${ENV_JSON} is damaged (${why}); the run cannot be continued, start a new one`,
  );
  if (env.status === 'ok') {
    throw new UserError('E_RUN', `${args.runDir}: this run finished (status ok); nothing to resume. Start a new run with: ftrun <config>`);
  }
  const { loaded, registry } = await prepare(resolvedFile, []);
  // relative paths in resolved.yaml are as written in the original experiment file: resolve them
  // where the first attempt did (validation too), and keep recording that file
  const baseDir = env.base_dir ?? (env.config_file && env.config_file !== resolvedFile ? dirname(env.config_file) : dirname(resolvedFile));
  loaded.baseDir = baseDir;
  const lost = redactedPaths(loaded.data);
  if (lost.length > 0) {
    const shown = lost.map((p) => formatPath(p)).join(', ');
    throw new UserError(
      'E_RUN',
      `${args.runDir}: cannot resume: ${shown} ${lost.length > 1 ? 'were' : 'was'} written into the experiment file literally, so ${RESOLVED_YAML} records ${lost.length > 1 ? 'them' : 'it'} redacted ("${REDACTED}"). ` +
        `Give secrets as \${env:NAME} (${RESOLVED_YAML} then records the reference and resume re-reads the environment), and start a new run`,
    );
  }
  const config = validateConfig(loaded, registry);
  if (!args.quiet) io.err(`resume ${config.name} (${env.status ?? 'unknown'}) → ${runDir}\n`);
  const summary = await runExperiment({
    loaded,
    config,
    registry,
    runDir,
    runId: env.run_id ?? basename(runDir),
    argv: args.argv,
    log: { quiet: args.quiet, verbose: args.verbose, write: io.err },
    signal: io.signal,
    resume: true,
    lock,
    ...(env.config_file ? { configFile: env.config_file } : {}),
    labels: labelsOf(env), // --tag / --note of the first attempt
  });
  if (args.json) {
    io.out(JSON.stringify({ run_dir: summary.runDir, name: summary.name, status: summary.status, primary: summary.primary, models: summary.models, delta: summary.delta, training: summary.training }, null, 2) + '\n');
  }
  return summary.status === 'ok' ? 0 : 1;
}

/**
 * `ftrun resume <sweep-dir>`: the sweep's trials expanded again from its experiment file (and the
 * --set flags it was started with); finished trials are kept, interrupted ones resume from their
 * checkpoints, trials that never started run; then sweep.json and the leaderboard are rewritten.
 */
async function resumeSweep(args: ResumeArgs, sweepDir: string, io: IO): Promise<number> {
  const file = join(sweepDir, SWEEP_JSON);
  const rec = readRecord<SweepRecordAsRead>(file, (why) => `cannot resume: the sweep's ${SWEEP_JSON} is damaged (${why})`);
  if (!rec.config_file || !existsSync(rec.config_file)) {
    throw new UserError('E_RUN', `${file}: cannot resume: its experiment file ${rec.config_file ?? '(not recorded)'} is gone; the sweep is expanded from it`);
  }
  if ((rec.trials ?? []).every((t) => trialFinished(t.status))) {
    throw new UserError('E_RUN', `${args.runDir}: every trial of this sweep finished (status ok, or stopped by sweep.stop); nothing to resume`);
  }
  const { loaded, registry } = await prepare(rec.config_file, rec.sets ?? []);
  const trials = validateTrials(loaded, registry);
  if (trials.length !== (rec.trials ?? []).length) {
    throw new UserError('E_RUN', `${file}: cannot resume: ${displayPath(rec.config_file)} now expands to ${trials.length} trials, the sweep had ${(rec.trials ?? []).length}`);
  }
  for (const t of trials) {
    const recorded = rec.trials?.find((r) => r.index === t.index)?.config_hash;
    if (recorded && recorded !== configHash(t.config)) {
      throw new UserError('E_RUN', `${file}: cannot resume: trial ${t.index}: ${displayPath(rec.config_file)} changed since the sweep started (its resolved config hashes to ${configHash(t.config)}, the sweep's to ${recorded}); start a new sweep`);
    }
  }
  // A sweep that is running (its own lock), or a trial that an array job or a worker is running
  // now, stays theirs: refuse before touching any.
  lockDir(sweepDir, 'ftrun resume (probe)').release();
  for (const t of trials) {
    const dir = trialRunDir(sweepDir, t.index);
    if (!existsSync(dir)) continue;
    try {
      lockDir(dir, 'ftrun resume (probe)').release();
    } catch (e) {
      if (e instanceof UserError && e.code === 'E_LOCKED') {
        throw new UserError('E_LOCKED', `cannot resume the sweep ${sweepDir}: trial ${t.index} is running: ${e.message}`);
      }
      throw e;
    }
  }
  const log = { quiet: args.quiet, verbose: args.verbose, write: io.err };
  return runSweep(
    { file: rec.config_file, sets: rec.sets ?? [], runsDir: dirname(dirname(sweepDir)), json: args.json, quiet: args.quiet, verbose: args.verbose, parallel: 1, argv: args.argv, labels: labelsOf(rec) },
    io,
    loaded,
    registry,
    trials,
    log,
    { id: basename(sweepDir), dir: sweepDir },
  );
}
