/**
 * Sweeps as array jobs on a cluster scheduler, with no service at all:
 *   ftrun plan sweep.yaml --prepare DIR          writes DIR/sweep.json (every trial pending)
 *   ftrun run sweep.yaml --trial N --sweep-dir DIR   runs trial N (from 1) into DIR/trials/N
 *                                                 (Slurm: $SLURM_ARRAY_TASK_ID; Kubernetes
 *                                                 Indexed Jobs: $((JOB_COMPLETION_INDEX + 1)))
 *   ftrun sweep collect DIR                      the leaderboard, naming missing or failed trials
 * Each trial job writes only its own trial directory (a trial that started before is resumed from
 * its checkpoint); `collect` reads them all, so jobs never contend for sweep.json.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { hasSweep } from '../config/sweep.js';
import { formatTrialOverrides, toYaml, validateTrials } from '../config/validate.js';
import { UserError } from '../errors.js';
import { writeJsonAtomic } from '../fsutil.js';
import { rankTrials, renderLeaderboardTable, writeLeaderboard, writeLeaderboardHtml } from '../leaderboard.js';
import type { LogOptions } from '../log.js';
import { ENV_JSON, LEADERBOARD_MD, SWEEP_JSON, TRIALS_DIR, trialRunDir, type RunEnv, type SweepRecord } from '../run/records.js';
import { runExperiment } from '../run/runner.js';
import { readJsonFile, readSweepDir } from '../run-reader.js';
import { prepare } from './prepare.js';
import { startedBefore, type IO } from './run.js';

/** A trial's resolved config, hashed: a trial job refuses to run when the experiment file changed since the sweep was prepared. */
const configHash = (config: unknown) => createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);

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
  mkdirSync(join(dir, TRIALS_DIR), { recursive: true });
  const sweep: SweepRecord = {
    name: trials[0]!.config.name,
    config_file: loaded.file,
    sets,
    primary: trials[0]!.config.evaluate.primary,
    trials: trials.map((t) => ({ index: t.index, overrides: t.overrides, run_dir: trialRunDir(dir, t.index), status: 'pending', config_hash: configHash(t.config) })),
  };
  writeJsonAtomic(join(dir, SWEEP_JSON), { ...sweep, ...extra } satisfies SweepRecord);
  return { dir, trials };
}

/** `ftrun plan sweep.yaml --prepare DIR`. */
export async function prepareCommand(args: { file: string; sets: string[]; dir: string }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  const { trials } = await prepareSweepDir(args.file, args.sets, () => dir);
  io.err(`prepared ${dir}: ${trials.length} trials. Run each (e.g. as array job 1-${trials.length}):\n  ftrun run ${args.file} --trial <1..${trials.length}> --sweep-dir ${dir}\nthen: ftrun sweep collect ${dir}\n`);
  return 0;
}

/** `ftrun run sweep.yaml --trial N --sweep-dir DIR`: exactly one trial of a prepared sweep. */
export async function trialCommand(args: { file: string; sets: string[]; trial: number; dir: string; argv: string[]; log: LogOptions; json: boolean }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  const sweep = readSweepFile(dir);
  const { registry, trials } = await sweepTrials(args.file, args.sets);
  const t = trials.find((x) => x.index === args.trial);
  if (!t) throw new UserError('E_USAGE', `--trial ${args.trial}: the sweep has trials 1 to ${trials.length}`);
  const recorded = sweep.trials.find((x) => x.index === t.index);
  if (!recorded || JSON.stringify(recorded.overrides) !== JSON.stringify(t.overrides) || sweep.trials.length !== trials.length) {
    throw new UserError('E_RUN', `${dir} was prepared from another sweep (trial ${t.index} there: ${recorded ? formatTrialOverrides(recorded.overrides) : 'none'}; here: ${formatTrialOverrides(t.overrides)})`);
  }
  if (recorded.config_hash && recorded.config_hash !== configHash(t.config)) {
    throw new UserError('E_RUN', `trial ${t.index}: ${args.file} changed since ${dir} was prepared (its resolved config hashes to ${configHash(t.config)}, the sweep's to ${recorded.config_hash}); prepare a new sweep directory`);
  }
  const runDir = trialRunDir(dir, t.index);
  mkdirSync(runDir, { recursive: true });
  const started = startedBefore(runDir);
  if (!args.log.quiet) io.err(`trial ${t.index}/${trials.length}: ${formatTrialOverrides(t.overrides)}${started ? ' (resumed)' : ''} → ${runDir}\n`);
  const summary = await runExperiment({
    loaded: t.loaded, config: t.config, registry, runDir, runId: `${basename(dir)}-t${t.index}`,
    argv: args.argv, log: args.log, signal: io.signal, trial: { index: t.index, overrides: t.overrides }, ...(started ? { resume: true } : {}),
  });
  if (args.json) io.out(JSON.stringify({ trial: t.index, run_dir: runDir, status: summary.status, models: summary.models }, null, 2) + '\n');
  return summary.status === 'ok' ? 0 : 1;
}

/** `ftrun sweep collect DIR`: statuses from the trial directories, the leaderboard, what is missing. */
export async function collectCommand(args: { dir: string; json: boolean; write?: boolean }, io: IO): Promise<number> {
  const dir = resolve(args.dir);
  const sweep = readSweepFile(dir);
  // A trial without metrics.json is running (its env.json says so) or was never started.
  const records = readSweepDir(dir).trials.map((t) => ({
    ...t,
    status: t.metrics ? t.status : existsSync(join(t.runDir, ENV_JSON)) ? String(readJsonFile<Partial<RunEnv>>(join(t.runDir, ENV_JSON)).status ?? 'running') : 'missing',
  }));
  let board = rankTrials(records, sweep.primary);
  if (args.write !== false) {
    writeJsonAtomic(join(dir, SWEEP_JSON), { ...sweep, trials: records.map((r) => ({ index: r.index, overrides: r.overrides, run_dir: r.runDir, status: r.status })) } satisfies SweepRecord);
    board = writeLeaderboard(dir, records, sweep.primary);
    await writeLeaderboardHtml(dir, { primary: sweep.primary, trials: board });
  }
  const notOk = records.filter((r) => r.status !== 'ok');
  if (args.json) io.out(JSON.stringify({ sweep_dir: dir, primary: sweep.primary, trials: records.map((r) => ({ index: r.index, overrides: r.overrides, status: r.status, models: r.metrics?.models })) }, null, 2) + '\n');
  else io.err(`${renderLeaderboardTable(board.map((e) => ({ ...e, metrics: {} })), sweep.primary, 'text')}\n${args.write !== false ? `leaderboard: ${join(dir, LEADERBOARD_MD)}\n` : ''}`);
  if (notOk.length) io.err(`${notOk.length} of ${records.length} trials not ok: ${notOk.map((r) => `trial ${r.index} ${r.status}`).join(', ')}\n`);
  return notOk.length ? 1 : 0;
}
