/**
 * Adapters end to end through the CLI: the quickstart (synthetic transactions, bundled USE-lite,
 * linear adapter, LanceDB) beats the base model, and on the reference workflow's real data an
 * adapter improves MRR@1 and Recall@3 over the frozen encoder for three seeds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

type Summary = { run_dir: string; status: string; models: Record<string, Record<string, number>> };

async function run(config: string, ...sets: string[]): Promise<Summary> {
  const r = await cli(['run', join(ROOT, 'configs', config), '--runs-dir', tempDir(), '--json', '--quiet', ...sets.flatMap((s) => ['--set', s])]);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Summary;
}

describe('configs/quickstart.yaml', () => {
  it('trains an adapter on synthetic transactions that beats the base model', async () => {
    const s = await run('quickstart.yaml', 'dataset.train=240', 'dataset.eval=80');
    const { base, finetuned } = s.models;
    expect(finetuned!['mrr@1']).toBeGreaterThan(base!['mrr@1']! + 0.05);
    const adapter = join(s.run_dir, 'adapter');
    for (const f of ['adapter.safetensors', 'adapter.json']) expect(existsSync(join(adapter, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(adapter, 'adapter.json'), 'utf8'))).toMatchObject({ kind: 'linear', apply_to: 'query' });
    const env = JSON.parse(readFileSync(join(s.run_dir, 'env.json'), 'utf8'));
    expect(env.encoders.base.model).toBe('use-lite');
    expect(env.encoders.finetuned.adapter).toBe('linear');
    expect(readFileSync(join(s.run_dir, 'report.md'), 'utf8')).toContain('| metric | base | fine-tuned | Δ |');
  });
});

describeShared('adapter on the reference workflow data (use-lite)', () => {
  it.each([1, 2, 3])('seed %i: MRR@1 and Recall@3 improve over the base model', async (seed) => {
    const s = await run('use-lite-transactions.yaml', `seed=${seed}`, 'store.type=memory');
    const { base, finetuned } = s.models;
    expect(finetuned!['mrr@1']).toBeGreaterThan(base!['mrr@1']!);
    expect(finetuned!['recall@3']).toBeGreaterThan(base!['recall@3']!);
  });
});

describeShared('adapters on BERT encoders', () => {
  const fixture = `model={path: ${TINY_BERT}}`;
  const adapterRun = ['training={method: adapter, epochs: 2, adapter: {apply_to: query}}', 'loss={type: multiple-negatives-ranking}', 'evaluate.compare=[base, finetuned]', 'store.type=memory'];

  it('on an ONNX model: the exported tuned ONNX file is served by the ort backend with the same results', async () => {
    const tuned = await run('bge-eval.yaml', fixture, ...adapterRun);
    const dir = join(tuned.run_dir, 'adapter');
    expect(existsSync(join(dir, 'onnx', 'model.onnx'))).toBe(true);
    // Evaluate the adapter directory as a plain model with the ort backend.
    const served = await run('bge-eval.yaml', `model={path: ${dir}}`, 'store.type=memory');
    for (const [k, v] of Object.entries(tuned.models.finetuned!)) expect(served.models.base![k], k).toBeCloseTo(v, 5);
  });

  it('on the tfjs BERT encoder, with hard negatives mined by the base model', async () => {
    const s = await run('bge.yaml', fixture, 'backend={type: tfjs, device: wasm}', 'miner={type: hard-negative, range_max: 5}', ...adapterRun);
    expect(s.status).toBe('ok');
    const env = JSON.parse(readFileSync(join(s.run_dir, 'env.json'), 'utf8'));
    expect(env.encoders.base.backend).toBe('tfjs');
    expect(env.encoders.finetuned.adapter).toBe('linear');
    const events = readFileSync(join(s.run_dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mined = events.find((e) => e.type === 'mined');
    expect(mined.shapes).toEqual(expect.arrayContaining(['pairs', 'triplets']));
    // at most one example per training query; queries whose window holds no safe negative are skipped
    expect(mined.examples).toBeGreaterThan(100);
    expect(mined.examples).toBeLessThanOrEqual(208);
    // the counts hard-negative reports: the default margin guard (0.05) removes candidates; skipped queries as counted
    expect(Object.keys(mined.stats)).toEqual(['removed_by_absolute_margin', 'removed_by_margin', 'removed_by_max_score', 'skipped_queries']);
    expect(mined.stats.removed_by_margin).toBeGreaterThan(0);
    expect(mined.examples + mined.stats.skipped_queries).toBe(208);
    expect(s.models.finetuned).not.toEqual(s.models.base);
  });
});
