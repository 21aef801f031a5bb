/**
 * Sweeps as array jobs on a cluster scheduler, with no service at all:
 *   ftrun plan sweep.yaml --prepare DIR          writes DIR/sweep.json (every trial pending)
 *   ftrun run sweep.yaml --trial N --sweep-dir DIR   runs trial N (from 1) into DIR/trials/N
 *                                                 (Slurm: $SLURM_ARRAY_TASK_ID; Kubernetes
 *                                                 Indexed Jobs: $((JOB_COMPLETION_INDEX + 1)))
 *   ftrun sweep collect DIR                      the leaderboard, naming missing or failed trials
 *   ftrun sweep status DIR                       how the trials stand (writes nothing)
 * Each trial job writes only its own trial directory (a trial that started before is resumed from
 * its checkpoint) and holds it locked while it runs, so a trial started twice is refused; `collect`
 * reads them all, so jobs never contend for sweep.json.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { hasSweep } from '../config/sweep.js';
import { formatTrialOverrides, toYaml, validateTrials } from '../config/validate.js';
import { UserError } from '../errors.js';
import { DirCreateError, makeDirs } from '../fsutil.js';
import { rankTrials, renderLeaderboardTable, writeLeaderboard, writeLeaderboardHtml } from '../leaderboard.js';
import type { LogOptions } from '../log.js';
import { LOCK_WAIT_ENV, lockDir, lockDirWaiting, lockWaitSeconds } from '../run/lock.js';
import { ENV_JSON, LEADERBOARD_MD, SWEEP_JSON, TRIALS_DIR, trialRunDir, type RunEnv, type SweepRecord } from '../run/records.js';
import { labelsOf, type RunLabels } from '../run-labels.js';
import { runExperiment } from '../run/runner.js';
import { configHash, writeSweepRecord } from '../run/sweep-record.js';
import { RedisIntermediateStore, trialFinished, trialStop, type IntermediateStore } from '../run/sweep-stop.js';
import { readJsonFile, readSweepDir } from '../run-reader.js';
import { startedBefore, type IO } from './run.js';
import { prepare } from './prepare.js';

function readSweepFile(dir: string): SweepRecord {
  const file = join(dir, SWEEP_JSON);
  if (!existsSync(file)) throw new UserError('E_RUN', `${dir} is not a prepared sweep directory (no ${SWEEP_JSON}): prepare it with ftrun plan <sweep.yaml> --prepare ${dir}`);
  return readJsonFile<SweepRecord>(file);
}

async function sweepTrials(file: string, sets: string[]) {
  const { loaded, registry } = await prepare(file, sets);
  if (!hasSweep(loaded)) throw new UserError('E_USAGE', `${file} has no sweep: block; --prepare and --trial are for sweeps`);
  return { loaded, registry, trials: validateTrials(loaded, registry) };
}

/**
 * Write sweep.json for the sweep in `file`, every trial pending, into the directory `where` gives
 * for the sweep's name (and the text its id hashes); returns that directory and the trials.
 */
export async function prepareSweepDir(file: string, sets: string[], where: (name: string, hashOf: string) => string, extra: Partial<SweepRecord> = {}) {
  const { loaded, trials } = await sweepTrials(file, sets);
  const dir = where(trials[0]!.config.name, toYaml(loaded.data));
  if (existsSync(join(dir, SWEEP_JSON))) throw new UserError('E_RUN', `${dir} is a sweep directory already (${SWEEP_JSON} exists); prepare a new one`);
  makeDirs(dir);
  makeDirs(join(dir, TRIALS_DIR));
  const sweep: SweepRecord = {
    name: trials[0]!.config.name,
    config_file: loaded.file,
    sets,
    primary: trials[0]!.config.evaluate.primary,
    // A trial of a sweep on a queue waits there until a worker takes it.
    trials: trials.map((t) => ({ index: t.index, overrides: t.overrides, run_dir: trialRunDir(dir, t.index), status: extra.queue ? 'queued' : 'pending', config_hash: configHash(t.config) })),
  };
  writeSweepRecord(dir, { ...sweep, ...extra });
  return { dir, trials };
}

/** `ftrun plan sweep.yaml --prepare DIR`. */
export async function prepareCommand(args: { file: string; sets: string[]; dir: string }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  let trials;
  try {
    ({ trials } = await prepareSweepDir(args.file, args.sets, () => dir));
  } catch (e) {
    if (e instanceof DirCreateError) throw new UserError('E_USAGE', `ftrun plan: --prepare ${args.dir}: cannot create ${e.path}: ${e.reason}`, { cause: e });
    throw e;
  }
  io.err(`prepared ${dir}: ${trials.length} trials. Run each (e.g. as array job 1-${trials.length}):\n  ftrun run ${args.file} --trial <1..${trials.length}> --sweep-dir ${dir}\nthen: ftrun sweep collect ${dir}\n`);
  return 0;
}

/**
 * `ftrun run sweep.yaml --trial N --sweep-dir DIR`: exactly one trial of a prepared sweep, `trial`
 * as given on the command line (a plain decimal number).
 */
export async function trialCommand(args: { file: string; sets: string[]; trial: string; dir: string; argv: string[]; log: LogOptions; json: boolean; labels?: RunLabels }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  const sweep = readSweepFile(dir);
  const { loaded, registry, trials } = await sweepTrials(args.file, args.sets);
  const decimal = /^[0-9]+$/.test(args.trial);
  const t = decimal ? trials.find((x) => x.index === Number(args.trial)) : undefined;
  if (!t) throw new UserError('E_USAGE', `--trial ${args.trial}: ${decimal ? '' : 'not a trial number: '}the sweep has trials 1 to ${trials.length}${decimal ? '' : ' (give one as a plain decimal number)'}`);
  const recorded = sweep.trials.find((x) => x.index === t.index);
  if (!recorded || JSON.stringify(recorded.overrides) !== JSON.stringify(t.overrides) || sweep.trials.length !== trials.length) {
    throw new UserError('E_RUN', `${dir} was prepared from another sweep (trial ${t.index} there: ${recorded ? formatTrialOverrides(recorded.overrides) : 'none'}; here: ${formatTrialOverrides(t.overrides)})`);
  }
  if (recorded.config_hash && recorded.config_hash !== configHash(t.config)) {
    throw new UserError('E_RUN', `trial ${t.index}: ${args.file} changed since ${dir} was prepared (its resolved config hashes to ${configHash(t.config)}, the sweep's to ${recorded.config_hash}); prepare a new sweep directory`);
  }
  const runDir = trialRunDir(dir, t.index);
  makeDirs(runDir);
  // One process per trial: a second one (a scheduler's retry, a duplicated array index) is refused
  // here, before it looks at what the first has written — or, with FTRUN_LOCK_WAIT_S (as queue
  // workers start trials), waits that long for it to end.
  const command = `ftrun run --trial ${t.index}`;
  const waitS = lockWaitSeconds();
  const lock =
    waitS > 0
      ? await lockDirWaiting(runDir, command, waitS * 1000, io.signal, () => {
          if (!args.log.quiet) io.err(`trial ${t.index}: ${runDir} is in use by another process; waiting up to ${waitS} s for it to end (${LOCK_WAIT_ENV})\n`);
        })
      : lockDir(runDir, command);
  // sweep.stop on a queue: the trials compare their intermediate values on the queue's Redis
  // (the worker gives its URL in FTRUN_QUEUE); otherwise in the sweep directory.
  const store = await intermediateStore(sweep, dir);
  try {
    const started = startedBefore(runDir);
    if (!args.log.quiet) io.err(`trial ${t.index}/${trials.length}: ${formatTrialOverrides(t.overrides)}${started ? ' (resumed)' : ''} → ${runDir}\n`);
    const summary = await runExperiment({
      loaded: t.loaded, config: t.config, registry, runDir, runId: `${basename(dir)}-t${t.index}`, lock,
      ...trialStop(loaded.data, dir, t.index, t.config.evaluate.primary, store, (m) => io.err(`warning: ${m}\n`)),
      argv: args.argv, log: args.log, signal: io.signal, trial: { index: t.index, overrides: t.overrides }, ...(started ? { resume: true } : {}),
      labels: args.labels ?? labelsOf(sweep), // its own --tag / --note, or the sweep's (a queued sweep records them)
    });
    if (args.json) io.out(JSON.stringify({ trial: t.index, run_dir: runDir, status: summary.status, models: summary.models }, null, 2) + '\n');
    // a trial stopped by sweep.stop finished (a queue does not retry it)
    return trialFinished(summary.status) ? 0 : 1;
  } finally {
    await store?.close?.();
    lock.release();
  }
}

/**
 * The shared record of a sweep's intermediate values (sweep.stop) for a trial job: on the queue's
 * Redis for a sweep submitted to a queue when the queue's URL is in FTRUN_QUEUE (as a worker starts
 * its trials); undefined otherwise (the files in the sweep directory).
 */
async function intermediateStore(sweep: SweepRecord, dir: string): Promise<IntermediateStore | undefined> {
  const { QUEUE_ENV, redisConnection } = await import('./queue.js');
  const url = process.env[QUEUE_ENV];
  if (!sweep.queue || !url) return undefined;
  return new RedisIntermediateStore(redisConnection({ url, from: QUEUE_ENV }), dir);
}

/** Trial states of a sweep still in progress: not failed, not finished. */
const IN_PROGRESS = new Set(['running', 'queued', 'pending', 'missing']);

/**
 * `ftrun sweep collect DIR` (and `ftrun sweep status DIR`, `write: false`): each trial's status from
 * its directory — metrics.json, else env.json (`running`), else not started: `queued` on a sweep
 * submitted to a queue, `missing` otherwise — then the leaderboard. collect writes sweep.json (the
 * statuses; every other field kept) and the leaderboard files, and exits 1 unless every trial is
 * ok; status writes nothing and exits 1 only when a trial failed or was interrupted.
 */
export async function collectCommand(args: { dir: string; json: boolean; write?: boolean }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  const write = args.write !== false;
  const sweep = readSweepFile(dir);
  const notStarted = sweep.queue ? 'queued' : 'missing';
  const records = readSweepDir(dir).trials.map((t) => ({
    ...t,
    status: t.metrics ? t.status : existsSync(join(t.runDir, ENV_JSON)) ? String(readJsonFile<Partial<RunEnv>>(join(t.runDir, ENV_JSON)).status ?? 'running') : notStarted,
  }));
  let board = rankTrials(records, sweep.primary);
  if (write) {
    writeSweepRecord(dir, { trials: records.map((r) => ({ index: r.index, run_dir: r.runDir, status: r.status })) });
    board = writeLeaderboard(dir, records, sweep.primary);
    await writeLeaderboardHtml(dir, { primary: sweep.primary, trials: board });
  }
  if (args.json) io.out(JSON.stringify({ sweep_dir: dir, primary: sweep.primary, trials: records.map((r) => ({ index: r.index, overrides: r.overrides, status: r.status, models: r.metrics?.models })) }, null, 2) + '\n');
  else io.err(`${renderLeaderboardTable(board.map((e) => ({ ...e, metrics: {} })), sweep.primary, 'text')}\n${write ? `leaderboard: ${join(dir, LEADERBOARD_MD)}\n` : ''}`);
  const named = (rs: typeof records) => rs.map((r) => `trial ${r.index} ${r.status}`).join(', ');
  if (write) {
    const notOk = records.filter((r) => !trialFinished(r.status));
    if (notOk.length) io.err(`${notOk.length} of ${records.length} trials not ok: ${named(notOk)}\n`);
    return notOk.length ? 1 : 0;
  }
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  io.err(`${records.length} trials: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
  const failed = records.filter((r) => !trialFinished(r.status) && !IN_PROGRESS.has(r.status));
  if (failed.length) io.err(`${failed.length} of ${records.length} trials failed or were interrupted: ${named(failed)}\n`);
  return failed.length ? 1 : 0;
}
