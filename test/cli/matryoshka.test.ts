/**
 * End to end: loss `matryoshka` around multiple-negatives-ranking trains through the loss seam on the
 * ort and tfjs (wasm) engines (the fixture model, 64 dims, dropout 0). With dims [64] it is exactly the
 * inner loss (the embeddings are already normalized), so its steps are the plain run's; with dims
 * [64, 32, 16] every step's loss is larger (the sum of three positive losses) and the model ends up
 * different; around cached-multiple-negatives-ranking (GradCache) it takes the same steps. Mistakes in
 * its options and the inner loss's are config errors at their line, and the miner and dataset are
 * checked against what the inner loss reads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets, readJsonl } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = tinyBertSets({ maxSteps: 4 });
const lines = readJsonl;

async function train(loss: string, backend = '{type: ort, intra_op_threads: 1}') {
  const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...COMMON, '--set', `backend=${backend}`, '--set', `loss=${loss}`]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/error/i);
  const summary = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
  const steps = lines(join(summary.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step') as Array<{ loss: number; grad_norm: number }>;
  return { summary, steps, resolved: readFileSync(join(summary.run_dir, 'resolved.yaml'), 'utf8') };
}

describeShared('loss matryoshka from the CLI', () => {
  it('trains around multiple-negatives-ranking on ort: dims [64] takes the plain steps, [64, 32, 16] others', async () => {
    const plain = await train('{type: multiple-negatives-ranking}');
    const full = await train('{type: matryoshka, loss: {type: multiple-negatives-ranking}, dims: [64]}');
    const nested = await train('{type: matryoshka, loss: {type: multiple-negatives-ranking}, dims: [64, 32, 16], weights: [1, 1, 1]}');
    // Around cached-multiple-negatives-ranking: the seam embeds in chunks of its mini_batch_size, same steps.
    const cached = await train('{type: matryoshka, loss: {type: cached-multiple-negatives-ranking, mini_batch_size: 5}, dims: [64, 32, 16]}');
    expect(nested.resolved).toMatch(/type: matryoshka/);
    expect(plain.steps.length).toBe(4);
    expect(full.steps.length).toBe(4);
    expect(nested.steps.length).toBe(4);
    plain.steps.forEach((p, i) => {
      const f = full.steps[i]!;
      expect(Math.abs(f.loss - p.loss) / p.loss, `step ${i + 1} loss`).toBeLessThan(1e-4);
      expect(Math.abs(f.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    nested.steps.forEach((p, i) => {
      const c = cached.steps[i]!;
      expect(Math.abs(c.loss - p.loss) / p.loss, `cached step ${i + 1} loss`).toBeLessThan(1e-4);
      expect(Math.abs(c.grad_norm - p.grad_norm) / p.grad_norm, `cached step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    // Step 1 sees the same model and batch: the nested loss adds two more positive terms.
    expect(nested.steps[0]!.loss).toBeGreaterThan(plain.steps[0]!.loss * 1.5);
    for (const s of nested.steps) expect(Number.isFinite(s.loss) && Number.isFinite(s.grad_norm) && s.grad_norm > 0).toBe(true);
    expect(nested.summary.models.finetuned).not.toEqual(plain.summary.models.finetuned);
  }, 600_000);

  it('trains on tfjs (wasm) too: dims [64] takes the plain steps, [64, 32, 16] others', async () => {
    const tfjs = '{type: tfjs, device: wasm}';
    const plain = await train('{type: multiple-negatives-ranking}', tfjs);
    const full = await train('{type: matryoshka, loss: {type: multiple-negatives-ranking}, dims: [64]}', tfjs);
    const nested = await train('{type: matryoshka, loss: {type: multiple-negatives-ranking}, dims: [64, 32, 16]}', tfjs);
    expect(plain.steps.length).toBe(4);
    plain.steps.forEach((p, i) => {
      expect(Math.abs(full.steps[i]!.loss - p.loss) / p.loss, `step ${i + 1} loss`).toBeLessThan(1e-4);
      expect(Math.abs(full.steps[i]!.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    expect(nested.steps.length).toBe(4);
    expect(nested.steps[0]!.loss).toBeGreaterThan(plain.steps[0]!.loss * 1.5);
    for (const s of nested.steps) expect(Number.isFinite(s.loss) && s.grad_norm > 0).toBe(true);
  }, 600_000);

  it('refuses a wrong inner option, an unknown inner type and a weight count that differs from dims, at their lines', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    const validate = async (loss: string) => {
      writeFileSync(file, `extends: ${BGE}\nloss:\n  type: matryoshka\n${loss}`);
      const r = await cli(['validate', file]);
      expect(r.code).toBe(2);
      return r.stderr;
    };
    expect(await validate('  loss:\n    type: cosent\n    scale: 0\n  dims: [64]\n')).toMatch(/exp\.yaml:6:\d+ loss\.loss\.scale: must be > 0, found number 0\n/);
    expect(await validate('  loss: { type: cosent, margin: 1 }\n  dims: [64]\n')).toMatch(/exp\.yaml:4:\d+ loss\.loss\.margin: unknown option "margin"\. Allowed: scale/);
    expect(await validate('  loss: { type: cosnet }\n  dims: [64]\n')).toMatch(/exp\.yaml:4:\d+ loss\.loss\.type: invalid value "cosnet"\. Did you mean "cosent"\?/);
    // The inner loss's own checks and ineffective options, at their lines.
    expect(await validate('  loss:\n    type: multiple-negatives-ranking\n    directions: [doc_to_query]\n  dims: [64]\n')).toMatch(
      /exp\.yaml:6:\d+ loss\.loss\.directions: must include query_to_doc \(it holds the positive pair\); got \[doc_to_query\]/,
    );
    expect(await validate('  loss:\n    type: multiple-negatives-ranking\n    hardness_strength: 5\n  dims: [64]\n')).toMatch(
      /exp\.yaml:6:\d+ loss\.loss\.hardness_strength: has no effect here: it weighs hardness_mode, which is none; remove it\n/,
    );
    // dims over the model's embedding dimension (a model directory: its config.json hidden_size, 64 here).
    writeFileSync(file, `extends: ${BGE}\nmodel: { path: ${TINY_BERT} }\nloss:\n  type: matryoshka\n  loss: { type: multiple-negatives-ranking }\n  dims: [128, 64, 32]\n`);
    const over = await cli(['validate', file]);
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/exp\.yaml:6:\d+ loss\.dims\[0\]: 128 is more than the model's embedding dimension 64: each of dims must be at most 64\n/);
    expect(over.stderr).toContain('found 1 problem');
    // A cached inner loss's chunk size and training.mini_batch_size must agree, as for the loss alone.
    expect(
      await validate('  loss: { type: cached-multiple-negatives-ranking, mini_batch_size: 4 }\n  dims: [64]\ntraining:\n  mini_batch_size: 8\n'),
    ).toMatch(/exp\.yaml:7:\d+ training\.mini_batch_size: 8 differs from loss\.loss\.mini_batch_size \(4\) of loss matryoshka; both set the GradCache chunk size: remove one of them, or give both the same value\n/);
    // The miner and dataset are checked against what the inner loss reads.
    expect(await validate('  loss: { type: cosent }\n  dims: [64]\n')).toMatch(
      /exp\.yaml:3:\d+ loss\.type: loss matryoshka needs a score on every example, and dataset\.score is not set: set it to the field holding each record's pair score\.\n/,
    );
    expect(await validate('  loss: { type: margin-mse }\n  dims: [64]\nminer: { type: none }\n')).toMatch(
      /exp\.yaml:3:\d+ loss\.type: loss matryoshka needs triplets examples; miner none makes them only from the data's own negatives, and dataset\.negatives is not set\./,
    );
    expect(await validate('  loss: { type: cosent }\n  dims: [64, 32]\n  weights: [1]\n')).toMatch(
      /exp\.yaml:6:\d+ loss\.weights: has 1 weight\(s\) but dims has 2: give one weight per dimension \(or leave weights out for all 1\)\n/,
    );
  });
});
