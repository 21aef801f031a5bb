/**
 * Early stopping from the CLI, on the fixture model (tiny-bert, ort, one thread) and the
 * transactions: training.early_stopping stops a run when the test-split metric stops improving
 * and keeps its best checkpoint (events, metrics.json, env.json, the console line); its mistakes
 * are config errors at their line.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const TINY = [
  '--set', `model={path: ${TINY_BERT}}`,
  '--set', 'backend={type: ort, intra_op_threads: 1}',
  '--set', 'store.type=memory',
  '--set', 'training.epochs=null',
  '--set', 'training.learning_rate=1e-3',
  '--set', 'sinks=[{type: console}]',
];

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
