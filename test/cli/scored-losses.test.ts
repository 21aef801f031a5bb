/**
 * End to end on the ort engine (the fixture model): the scored-pair and distillation losses read
 * what the jsonl dataset carries — each record's `score` and `teacher` values, and its negatives —
 * through miner none and the loss seam, and train (finite losses, non-zero gradients, the
 * fine-tuned model evaluated; cosent with GradCache takes the plain steps). A scored or distillation
 * loss on a dataset configured without scores / teacher values is refused before anything runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** The n-tuple records of configs/data/ntuple-negatives.jsonl with a graded score and 3 teacher scores each. */
function data(dir: string): string {
  const recs = readFileSync(join(ROOT, 'configs', 'data', 'ntuple-negatives.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const file = join(dir, 'q.jsonl');
  writeFileSync(file, recs.map((r, i) => JSON.stringify({ ...r, score: [1, 0.75, 0.5, 0.25][i % 4], teacher: [2 + 0.1 * (i % 5), 0.5, -0.3] })).join('\n') + '\n');
  return file;
}

async function run(loss: string, dataset: string, training = '') {
  const dir = tempDir();
  const queries = data(dir);
  const file = join(dir, 'exp.yaml');
  writeFileSync(
    file,
    [
      'name: scored',
      'seed: 42',
      `dataset: { type: jsonl, queries: ${queries}, input: anchor, expected: positive${dataset} }`,
      'splitter: { type: ratio, test: 0.2 }',
      'miner: { type: none }',
      `loss: ${loss}`,
      `model: { path: ${TINY_BERT} }`,
      'backend: { type: ort, intra_op_threads: 1 }',
      `training: { method: full, max_steps: 4, batch_size: 8, learning_rate: 1.0e-3${training} }`,
      'store: { type: memory }',
      'evaluate: { compare: [base, finetuned], k: [1, 3] }',
      '',
    ].join('\n'),
  );
  return cli(['run', file, '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
}

type Step = { loss: number; grad_norm: number };

async function trains(loss: string, dataset: string, training = ''): Promise<Step[]> {
  const r = await run(loss, dataset, training);
  expect(r.code, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
  const steps = lines(join(summary.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step') as Step[];
  expect(steps.length).toBe(4);
  for (const s of steps) expect(Number.isFinite(s.loss) && s.loss > 0 && s.grad_norm > 0, JSON.stringify(s)).toBe(true);
  expect(Object.keys(summary.models)).toEqual(['base', 'finetuned']);
  return steps;
}

describeShared('scored-pair and distillation losses from the CLI (ort)', () => {
  it('cosent, angle and cosine-similarity train on the records\' scores', async () => {
    const plain = await trains('{ type: cosent }', ', score: score');
    // GradCache (training.mini_batch_size) takes the same steps: the loss sees the whole batch.
    const cached = await trains('{ type: cosent }', ', score: score', ', mini_batch_size: 3');
    plain.forEach((p, i) => {
      expect(Math.abs(cached[i]!.loss - p.loss) / p.loss, `step ${i + 1} loss`).toBeLessThan(1e-4);
      expect(Math.abs(cached[i]!.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    await trains('{ type: angle }', ', score: score');
    await trains('{ type: cosine-similarity }', ', score: score');
  }, 600_000);

  it('margin-mse and distill-kl-div train on the records\' negatives and teacher scores', async () => {
    await trains('{ type: margin-mse }', ', negatives: [negative_1, negative_2], teacher: teacher');
    await trains('{ type: distill-kl-div, teacher_temperature: 2 }', ', negatives: [negative_1, negative_2], teacher: teacher');
  }, 600_000);

  it('a scored or distillation loss on a dataset that gives no scores or teacher values is a config error at loss.type', async () => {
    const cosent = await run('{ type: cosent }', '');
    expect(cosent.code).toBe(2);
    expect(cosent.stderr).toMatch(
      /exp\.yaml:6:\d+ loss\.type: loss cosent needs a score on every example, and dataset\.score is not set: set it to the field holding each record's pair score\.\n/,
    );
    const mse = await run('{ type: margin-mse }', ', negatives: [negative_1, negative_2]');
    expect(mse.code).toBe(2);
    expect(mse.stderr).toMatch(
      /exp\.yaml:6:\d+ loss\.type: loss margin-mse needs teacher values on every example, and dataset\.teacher is not set: set it to the field holding each record's teacher values \(a margin or a list of scores\)\.\n/,
    );
  });
});
