/**
 * Early stopping from the CLI, on the fixture model (tiny-bert, ort, one thread) and the
 * transactions: training.early_stopping stops a run when the test-split metric stops improving
 * and keeps its best checkpoint (events, metrics.json, env.json, the console line); its mistakes
 * are config errors at their line. sweep.stop: median stops a sweep's trial whose test-split MRR@1
 * is below the median of the trials that reached the same step, sequentially and with --parallel:
 * the trial is `stopped` (not failed) everywhere, the sweep exits 0 and resume does not run it again;
 * on a Redis queue the trials compare through Redis (skipped, saying why, without redis-server).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { BIN, REDIS, startRedis, type TestRedis } from '../helpers/redis.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const TINY = [...tinyBertSets({ backend: '{type: ort, intra_op_threads: 1}' }), '--set', 'training.epochs=null', '--set', 'sinks=[{type: console}]'];

type Ev = Record<string, any>;
const events = (runDir: string): Ev[] =>
  readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Ev);
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Ev;

describeShared('training.early_stopping from the CLI', () => {
  it('stops the run when the test-split MRR@1 has not improved in `patience` evaluations, and keeps the best checkpoint', async () => {
    const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', ...TINY, '--set', 'training.max_steps=40', '--set', 'training.eval_every=2', '--set', 'training.early_stopping={patience: 2}']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { run_dir: string; status: string };
    expect(summary.status).toBe('ok');
    const ev = events(summary.run_dir);
    const stop = ev.find((e) => e.type === 'early_stop')!;
    expect(stop).toMatchObject({ rule: 'patience', metric: 'mrr@1', patience: 2, min_delta: 0 });
    // stopped before the last step, two evaluations (of every 2 steps) after the best one
    expect(stop.step).toBeLessThan(40);
    expect(stop.step).toBe(stop.best.step + 2 * 2);
    expect(ev.filter((e) => e.type === 'train_step')).toHaveLength(stop.step);
    const evals = ev.filter((e) => e.type === 'train_eval');
    expect(evals.at(-1)!.step).toBe(stop.step);
    expect(evals.find((e) => e.step === stop.best.step)!.metrics['mrr@1']).toBe(stop.best.value);
    for (const e of evals.filter((x) => x.step > stop.best.step)) expect(e.metrics['mrr@1']).toBeLessThanOrEqual(stop.best.value);
    // the best checkpoint is the model
    expect(ev.find((e) => e.type === 'load_best')).toMatchObject({ step: stop.best.step, metric: 'mrr@1', value: stop.best.value });
    expect(readdirSync(join(summary.run_dir, 'checkpoints'))).toContain(`step-${stop.best.step}`);
    // recorded in metrics.json and env.json, and said on the console
    const { time: _t, type: _y, epoch: _e, ...record } = stop;
    expect(json(join(summary.run_dir, 'metrics.json')).early_stop).toEqual(record);
    const env = json(join(summary.run_dir, 'env.json'));
    expect(env.early_stop).toEqual(record);
    expect(env.training).toMatchObject({ steps: stop.step, total_steps: 40, best_step: stop.best.step });
    expect(r.stderr).toContain(
      `early stopping at step ${stop.step} of 40: mrr@1 did not improve by more than 0 in 2 evaluations (best ${stop.best.value.toFixed(4)} at step ${stop.best.step})\n`,
    );
    // and in the console sink's summary at the end
    expect(r.stderr).toContain(`\nearly stopping at step ${stop.step}: mrr@1 did not improve by more than 0 in 2 evaluations (best ${stop.best.value.toFixed(3)} at step ${stop.best.step})\n`);
  }, 300_000);

  it('refuses patience below 1, a metric the test-split evaluation does not compute, and no test split, at their lines', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    const validate = async (training: string, extra = '') => {
      writeFileSync(file, `extends: ${BGE}\nname: es\nmodel:\n  path: ${TINY_BERT}\n${extra}training:\n${training}`);
      return cli(['validate', file]);
    };
    let r = await validate('  early_stopping:\n    patience: 0\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:7:15 training.early_stopping.patience: must be >= 1, found number 0\n`);
    r = await validate('  early_stopping:\n    metric: mrr@10\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:7:13 training.early_stopping.metric: "mrr@10" is not computed by the evaluation on the test split. Did you mean "mrr@1"? ` +
        'Choices: mrr@1, mrr@3, mrr@5, recall@1, recall@3, recall@5, ndcg@1, ndcg@3, ndcg@5, map@1, map@3, map@5, precision@1, precision@3, precision@5, hit@1, hit@3, hit@5, triplet_accuracy.\n',
    );
    r = await validate('  early_stopping:\n    patience: 2\n', 'splitter:\n  type: none\n  test: null\n  shuffle: null\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:10:3 training.early_stopping: needs a test split to evaluate on during training, but splitter "none" makes none; use splitter ratio (e.g. {type: ratio, test: 0.2}) or field, or remove training.early_stopping\n`,
    );
    // a splitter that could make a test split but made none here: found after the split, before any model loads
    writeFileSync(file, `extends: ${BGE}\nname: es\nmodel:\n  path: ${TINY_BERT}\ndataset:\n  limit: 20\nsplitter:\n  test: 0.01\ntraining:\n  early_stopping:\n    patience: 2\n`);
    r = await cli(['run', file, '--runs-dir', tempDir(), '--quiet', '--set', 'store.type=memory']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_DATA]: ${file}:10:3 training.early_stopping: needs a test split to evaluate on during training, but splitter ratio made no test queries; hold some out (splitter ratio, or field with records marked test) or remove training.early_stopping\n`,
    );
  }, 120_000);
});

/** A sweep of 3 trials on tiny-bert; the third's learning rate (0.05) wrecks the model at once. */
function sweepFile(stop = 'median'): string {
  const file = join(tempDir(), 'sweep.yaml');
  writeFileSync(
    file,
    `extends: ${BGE}
name: es-sweep
model:
  path: ${TINY_BERT}
backend:
  type: ort
  intra_op_threads: 1
store:
  type: memory
training:
  epochs: null
  max_steps: 12
  eval_every: 2
sweep:
  grid:
    training.learning_rate: [1.0e-3, 5.0e-4, 5.0e-2]
  stop: ${stop}
`,
  );
  return file;
}

/** The test-split MRR@1 of each evaluation of a trial, by step (its events.jsonl). */
const evalsOf = (trialDir: string) => new Map(events(trialDir).filter((e) => e.type === 'train_eval').map((e) => [e.step as number, e.metrics['mrr@1'] as number]));

/** Checks a finished sweep of sweepFile() in `runs` whose third trial was stopped by the median rule. */
function checkStopped(runs: string, r: { stderr: string }, via: 'files' | 'redis' = 'files', printed = true) {
  const dir = join(runs, 'es-sweep', readdirSync(join(runs, 'es-sweep'))[0]!);
  const trial = (i: number) => join(dir, 'trials', String(i));
  const metrics = json(join(trial(3), 'metrics.json'));
  const stop = metrics.early_stop;
  expect(metrics.status).toBe('stopped');
  expect(stop).toMatchObject({ rule: 'median', metric: 'mrr@1', trials: 2 });
  // the median of the two others at that step, which the stopped trial is below
  const others = [evalsOf(trial(1)).get(stop.step)!, evalsOf(trial(2)).get(stop.step)!];
  expect(stop.median).toBe((others[0]! + others[1]!) / 2);
  expect(stop.value).toBe(evalsOf(trial(3)).get(stop.step));
  expect(stop.value).toBeLessThan(stop.median);
  // it trained up to there, kept its checkpoint, its events and the base model's metrics; no fine-tuned model
  expect(events(trial(3)).filter((e) => e.type === 'train_step')).toHaveLength(stop.step);
  expect(events(trial(3)).find((e) => e.type === 'early_stop')).toMatchObject(stop);
  expect(events(trial(3)).at(-1)).toMatchObject({ type: 'run_end', status: 'stopped' });
  expect(readdirSync(join(trial(3), 'checkpoints'))).toEqual([`step-${stop.step}`]);
  expect(Object.keys(metrics.models)).toEqual(['base']);
  expect(existsSync(join(trial(3), 'model'))).toBe(false);
  const env = json(join(trial(3), 'env.json'));
  expect(env.status).toBe('stopped');
  expect(env.early_stop).toEqual(stop);
  expect(env.error).toBeUndefined();
  // the others finished: stopping needs 2 other trials at a step, and they ran first
  expect(json(join(trial(1), 'metrics.json')).status).toBe('ok');
  expect(json(join(trial(2), 'metrics.json')).status).toBe('ok');
  expect(json(join(dir, 'sweep.json')).trials.map((t: Ev) => t.status)).toEqual(['ok', 'ok', 'stopped']);
  const board = json(join(dir, 'leaderboard.json')).trials as Ev[];
  expect(board.find((t) => t.index === 3)).toMatchObject({ rank: null, status: 'stopped' });
  expect(board.filter((t) => t.rank !== null).map((t) => t.index).sort()).toEqual([1, 2]);
  // the intermediate values every trial recorded: files in the sweep directory, or on the queue's Redis
  if (via === 'files') {
    expect(json(join(dir, 'intermediate', '3.json'))).toEqual({ trial: 3, metric: 'mrr@1', values: { [String(stop.step)]: stop.value } });
    expect(Object.keys(json(join(dir, 'intermediate', '1.json')).values)).toEqual(['2', '4', '6', '8', '10']);
  } else expect(existsSync(join(dir, 'intermediate'))).toBe(false);
  if (printed) {
    // the console says which trial stopped where, and why
    expect(r.stderr).toMatch(new RegExp(`\\ntrial 3/3 stopped[^\\n]* at step ${stop.step}: mrr@1 ${stop.value.toFixed(4)} (is|was) below the median ${stop.median.toFixed(4)} of 2 other trials at that step \\(sweep\\.stop: median\\)\\n`));
  }
  return { dir, stop };
}

async function stoppedSweep(extra: string[]) {
  const runs = tempDir();
  const r = await cli(['run', sweepFile(), '--runs-dir', runs, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return checkStopped(runs, r);
}

describeShared('sweep.stop: median from the CLI', () => {
  it('stops the trial below the median of the others at an evaluation step; recorded stopped, exit 0; resume runs nothing again', async () => {
    const { dir } = await stoppedSweep([]);
    const again = await cli(['resume', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`error[E_RUN]: ${dir}: every trial of this sweep finished (status ok, or stopped by sweep.stop); nothing to resume\n`);
    // collect counts the stopped trial as finished
    const collected = await cli(['sweep', 'collect', dir]);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stderr).not.toMatch(/not ok/);
    const status = await cli(['sweep', 'status', dir]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain('\n3 trials: 2 ok, 1 stopped\n');
  }, 600_000);

  it('with --parallel 2 the trials compare through the sweep directory the same way', async () => {
    await stoppedSweep(['--parallel', '2']);
  }, 600_000);

  it('as array jobs (plan --prepare, run --trial N --sweep-dir) the trials compare through the prepared directory', async () => {
    const runs = tempDir();
    const file = sweepFile();
    const dir = join(runs, 'es-sweep', 'sweep-array');
    let r = await cli(['plan', file, '--prepare', dir]);
    expect(r.code, r.stderr).toBe(0);
    const stderr: string[] = [];
    for (const n of ['1', '2', '3']) {
      r = await cli(['run', file, '--trial', n, '--sweep-dir', dir, '--quiet']);
      // a trial stopped by the median rule finished: exit 0 (a scheduler does not retry it)
      expect(r.code, r.stderr).toBe(0);
      stderr.push(r.stderr);
    }
    const collected = await cli(['sweep', 'collect', dir]);
    expect(collected.code, collected.stderr).toBe(0);
    checkStopped(runs, { stderr: '' }, 'files', false);
    expect(stderr).toEqual(['', '', '']);
  }, 600_000);

  it('refuses an unknown rule and bad options at their lines', async () => {
    let file = sweepFile('mean');
    let r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:17:9 sweep.stop: unknown stopping rule "mean". Did you mean "median"? Allowed: median, {rule: median, min_trials: N, grace_steps: S}.\n`,
    );
    file = sweepFile('{rule: median, min_trials: 0, grace: 2}');
    r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 2 problems:\n  ${file}:17:36 sweep.stop.min_trials: must be an integer of at least 1, found 0\n` +
        `  ${file}:17:39 sweep.stop.grace: unknown option "grace". Allowed: rule, min_trials, grace_steps.\n`,
    );
    // trials that never evaluate during training could never be stopped
    file = sweepFile();
    writeFileSync(file, readFileSync(file, 'utf8').replace('store:\n', 'splitter:\n  type: none\n  test: null\n  shuffle: null\nstore:\n'));
    r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${file}:21:9 sweep.stop: stops trials by their evaluations on the test split during training, but no trial of this sweep has a test split (splitter none); ` +
        'train (training.method full or adapter) with a test split (splitter ratio or field), or remove sweep.stop\n',
    );
  }, 120_000);
});

describeShared('sweep.stop: median on a Redis queue', () => {
  let redis: TestRedis | undefined;
  const workers: ChildProcess[] = [];
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await redis?.stop();
  });

  it('the trials of a queued sweep compare on the queue\'s Redis: one worker takes them in order and the third is stopped', async () => {
    if (!REDIS) return console.warn('skipping: redis-server is not installed (apt-get install redis-server)');
    redis = await startRedis();
    // one worker, one trial at a time: the trials run in queue order, as a sequential sweep
    const w = spawn(process.execPath, [BIN, 'worker', '--queue', redis.url], { stdio: 'ignore' });
    workers.push(w);
    const runs = tempDir();
    const file = sweepFile();
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const c = spawn(process.execPath, [BIN, 'run', file, '--queue', redis!.url, '--runs-dir', runs], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => res({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    const { dir, stop } = checkStopped(runs, r, 'redis', false);
    expect(r.stderr).toMatch(/\ntrial 3\/3:? stopped/);
    // Redis holds each step's values, trial → value
    const key = `ftrun:intermediate:${dir.split('/').at(-1)}:${stop.step}`;
    const hash = spawnSync('redis-cli', ['-p', String(redis.port), 'hgetall', key], { encoding: 'utf8' }).stdout.trim().split('\n');
    const values = Object.fromEntries(Array.from({ length: hash.length / 2 }, (_, i) => [hash[2 * i], Number(hash[2 * i + 1])]));
    expect(Object.keys(values).sort()).toEqual(['1', '2', '3']);
    expect(values['3']).toBe(stop.value);
    expect((values['1']! + values['2']!) / 2).toBe(stop.median);
    // kept 30 days after the last write
    const ttl = Number(spawnSync('redis-cli', ['-p', String(redis.port), 'ttl', key], { encoding: 'utf8' }).stdout.trim());
    expect(ttl).toBeGreaterThan(29 * 24 * 3600);
    expect(ttl).toBeLessThanOrEqual(30 * 24 * 3600);
  }, 600_000);
});
