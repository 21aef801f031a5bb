/**
 * End to end on the ort trainer: `ftrun configs/bge.yaml` with `backend: { type: ort }` and the
 * fixture model — the same fine-tuned metrics as the tfjs trainer, the model saved with its ONNX
 * export and served by ort — and `ftrun resume` after SIGKILL ends with exactly the metrics of an
 * uninterrupted run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { cli, killAfterFirstCheckpoint, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = [
  '--set', `model={path: ${TINY_BERT}}`,
  '--set', 'training.epochs=4', // 52 steps: a kill after the first checkpoint (step 5) lands mid-run even on a loaded machine
  '--set', 'training.learning_rate=1e-3',
  '--set', 'training.eval_every=5',
  '--set', 'store.type=memory',
];
const ORT = [...COMMON, '--set', 'backend={type: ort, intra_op_threads: 1}'];
const TFJS = [...COMMON, '--set', 'backend={type: tfjs, device: wasm}'];

const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describeShared('ftrun configs/bge.yaml on backend ort', () => {
  let summary: { run_dir: string; status: string; models: Record<string, Record<string, number>> };

  beforeAll(async () => {
    const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...ORT]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    summary = JSON.parse(r.stdout);
  });

  it('trains on onnxruntime and records how', () => {
    expect(summary.status).toBe('ok');
    const env = readJson(join(summary.run_dir, 'env.json'));
    expect(env.training).toMatchObject({ backend: 'ort', execution_providers: ['cpu'], intra_op_threads: 1, steps: 52 });
    expect(env.encoders.finetuned.backend).toBe('ort');
    expect(lines(join(summary.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step')).toHaveLength(52);
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'modules.json', '1_Pooling/config.json', 'onnx/model.onnx']) {
      expect(existsSync(join(summary.run_dir, 'model', f)), f).toBe(true);
    }
  });

  it('ends where the tfjs trainer ends', async () => {
    const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...TFJS]);
    expect(r.code).toBe(0);
    const tfjs = JSON.parse(r.stdout) as typeof summary;
    for (const [k, v] of Object.entries(tfjs.models.finetuned!)) expect(summary.models.finetuned![k], k).toBeCloseTo(v, 6);
    expect(summary.models.finetuned).not.toEqual(summary.models.base);
  });

  it('resumes a run killed after its first checkpoint to exactly the uninterrupted metrics', async () => {
    const runs = tempDir();
    const runDir = await killAfterFirstCheckpoint(['run', BGE, ...ORT], runs, 'bge-base-transactions');
    const steps = lines(join(runDir, 'events.jsonl')).filter((e) => e.type === 'train_step').length;
    expect(readJson(join(runDir, 'env.json')).status, `killed after ${steps} steps`).toBe('running');
    expect(steps).toBeLessThan(52);

    const r = await cli(['resume', runDir, '--json', '--quiet']);
    expect(r.stderr, `resume after ${steps} steps`).toBe('');
    expect(r.code).toBe(0);
    const resumed = JSON.parse(r.stdout);
    expect(resumed.models.finetuned, `resumed after ${steps} steps`).toEqual(summary.models.finetuned);
    expect(lines(join(runDir, 'events.jsonl')).some((e) => e.type === 'resume')).toBe(true);
  });
});
