/**
 * Adapters end to end through the CLI: the quickstart (synthetic transactions, bundled USE-lite,
 * linear adapter, LanceDB) beats the base model, and on the reference workflow's real data an
 * adapter improves MRR@1 and Recall@3 over the frozen encoder for three seeds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, describeShared } from '../helpers/shared.js';

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
