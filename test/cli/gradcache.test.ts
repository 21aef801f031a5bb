/**
 * End to end: `training.mini_batch_size` (cached batches, GradCache) through the CLI on both
 * engines. With the fixture model (dropout 0) a cached run takes the same steps as a plain one:
 * every step's loss and gradient norm, and the fine-tuned metrics, agree. A chunk as large as the
 * batch is refused at its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = [
  '--set', `model={path: ${TINY_BERT}}`,
  '--set', 'training.epochs=1',
  '--set', 'training.learning_rate=1e-3',
  '--set', 'store.type=memory',
];
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

async function run(backend: string, extra: string[]) {
  const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...COMMON, '--set', `backend=${backend}`, ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
  const steps = lines(join(summary.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step') as Array<{ loss: number; grad_norm: number }>;
  return { summary, steps, resolved: readFileSync(join(summary.run_dir, 'resolved.yaml'), 'utf8') };
}

describeShared('training.mini_batch_size (GradCache) from the CLI', () => {
  for (const backend of ['{type: ort, intra_op_threads: 1}', '{type: tfjs, device: wasm}']) {
    it(`backend ${backend}: a cached run takes the steps of the plain run`, async () => {
      const plain = await run(backend, []);
      const cached = await run(backend, ['--set', 'training.mini_batch_size=5']);
      expect(cached.resolved).toMatch(/mini_batch_size: 5/);
      expect(plain.resolved).not.toMatch(/mini_batch_size/);
      expect(cached.steps.length).toBe(plain.steps.length);
      expect(plain.steps.length).toBeGreaterThan(5);
      plain.steps.forEach((p, i) => {
        const c = cached.steps[i]!;
        expect(Math.abs(c.loss - p.loss) / Math.max(Math.abs(p.loss), 1e-6), `step ${i + 1} loss`).toBeLessThan(1e-4);
        expect(Math.abs(c.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
      });
      for (const [k, v] of Object.entries(plain.summary.models.finetuned!)) expect(cached.summary.models.finetuned![k], k).toBeCloseTo(v, 4);
      expect(plain.summary.models.finetuned).not.toEqual(plain.summary.models.base);
    });
  }

  it('adapter training (configs/quickstart.yaml): a cached run takes the steps of the plain run', async () => {
    const quick = join(ROOT, 'configs', 'quickstart.yaml');
    const go = async (extra: string[]) => {
      const r = await cli(['run', quick, '--runs-dir', tempDir(), '--json', '--quiet', '--set', 'store.type=memory', '--set', 'training.epochs=1', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
      return { s, steps: lines(join(s.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step') as Array<{ loss: number; grad_norm: number }> };
    };
    const plain = await go([]);
    const cached = await go(['--set', 'training.mini_batch_size=3']);
    expect(cached.steps.length).toBe(plain.steps.length);
    plain.steps.forEach((p, i) => {
      expect(Math.abs(cached.steps[i]!.loss - p.loss) / Math.abs(p.loss), `step ${i + 1} loss`).toBeLessThan(1e-5);
      expect(Math.abs(cached.steps[i]!.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    for (const [k, v] of Object.entries(plain.s.models.finetuned!)) expect(cached.s.models.finetuned![k], k).toBeCloseTo(v, 4);
  });

  it('a chunk as large as the batch is refused at its line', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${BGE}\ntraining:\n  batch_size: 16\n  mini_batch_size: 16\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exp\.yaml:4.*training\.mini_batch_size.*has no effect/s);
  });
});
