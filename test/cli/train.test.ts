/**
 * End to end: `ftrun configs/bge.yaml` (the reference workflow: full fine-tuning with
 * BatchSemiHardTripletLoss) with the fixture model — base vs fine-tuned in the report, the
 * fine-tuned model saved in Hugging Face + sentence-transformers layout with its ONNX export —
 * and `ftrun resume` after the process is killed mid-training ends where an uninterrupted run ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { cli, killAfterFirstCheckpoint, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
// The fixture model, 2 epochs, learning rate suited to its size; a checkpoint every 5 steps.
const SETS = [
  '--set', `model={path: ${TINY_BERT}}`,
  '--set', 'backend={type: tfjs, device: wasm}',
  '--set', 'training.epochs=2',
  '--set', 'training.learning_rate=1e-3',
  '--set', 'training.eval_every=5',
  '--set', 'store.type=memory',
];

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describeShared('ftrun configs/bge.yaml: full fine-tuning end to end', () => {
  let summary: { run_dir: string; status: string; models: Record<string, Record<string, number>>; delta: Record<string, number> };

  beforeAll(async () => {
    const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...SETS]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    summary = JSON.parse(r.stdout);
  });

  it('evaluates base and fine-tuned and reports the difference', () => {
    expect(summary.status).toBe('ok');
    const { base, finetuned } = summary.models;
    expect(Object.keys(finetuned!)).toEqual(Object.keys(base!));
    expect(summary.delta['mrr@1']).toBeCloseTo(finetuned!['mrr@1']! - base!['mrr@1']!, 12);
    // 1e-3 on 208 examples for 26 steps moves the model: the rankings change.
    expect(finetuned).not.toEqual(base);
    const report = readFileSync(join(summary.run_dir, 'report.md'), 'utf8');
    expect(report).toMatch(/\| metric \| base \| fine-tuned \| Δ \|/);
    expect(report).toContain('## Training');
    expect(report).toMatch(/\| samples\/s \| \d+\.\d\d \|/);
  });

  it('records training events, checkpoints and the device used', () => {
    const events = lines(join(summary.run_dir, 'events.jsonl'));
    const steps = events.filter((e) => e.type === 'train_step');
    expect(steps).toHaveLength(26); // 2 epochs × ceil(208 / 16)
    expect(steps.every((e) => Number.isFinite(e.loss) && Number.isFinite(e.lr))).toBe(true);
    expect(events.some((e) => e.type === 'train_eval' && e.step !== undefined && e.metrics?.triplet_accuracy !== undefined)).toBe(true);
    const env = readJson(join(summary.run_dir, 'env.json'));
    expect(env.training.device).toBe('wasm');
    expect(env.training.steps).toBe(26);
    expect(env.encoders.finetuned.backend).toBe('tfjs');
  });

  it('saves the fine-tuned model in Hugging Face + sentence-transformers layout with an ONNX export', () => {
    const model = join(summary.run_dir, 'model');
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', 'sentence_bert_config.json', '1_Pooling/config.json', 'onnx/model.onnx']) {
      expect(existsSync(join(model, f)), f).toBe(true);
    }
  });
});

describeShared('ftrun resume', () => {
  it('continues a run killed mid-training and ends with the metrics of an uninterrupted run', async () => {
    const reference = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...SETS]);
    expect(reference.code).toBe(0);
    const expected = JSON.parse(reference.stdout);

    const runs = tempDir();
    const runDir = await killAfterFirstCheckpoint(['run', BGE, ...SETS], runs, 'bge-base-transactions');
    expect(readJson(join(runDir, 'env.json')).status).toBe('running'); // killed: never finished

    const r = await cli(['resume', runDir, '--json', '--quiet']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const resumed = JSON.parse(r.stdout);
    expect(resumed.status).toBe('ok');
    const steps = lines(join(runDir, 'events.jsonl')).filter((e) => e.type === 'train_step').length;
    expect(resumed.models.finetuned, `resumed (${steps} train_step events in all)`).toEqual(expected.models.finetuned);
    expect(lines(join(runDir, 'events.jsonl')).some((e) => e.type === 'run_resume')).toBe(true);
    expect(readJson(join(runDir, 'env.json')).status).toBe('ok');

    const again = await cli(['resume', runDir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('nothing to resume');
  });
});
