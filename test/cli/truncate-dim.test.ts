/**
 * model.truncate_dim end to end on tiny-bert (64 dims, ort): with truncate_dim 16 every metric is
 * computed on the embeddings' first 16 values (the base model's metrics equal those evaluate.dims
 * [16] reports for the full-dimension run), the exported fine-tuned model records truncate_dim 16
 * in config_sentence_transformers.json as sentence-transformers does, and encoding it gives 16-dim
 * vectors. A truncate_dim over the model's dimension is a config error at its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import OrtBackend from '../../plugins/backend/ort.js';
import { cli, tempDir } from '../helpers/cli.js';
import { makeContext } from '../helpers/context.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = tinyBertSets({ maxSteps: 2, backend: '{type: ort, intra_op_threads: 1}' });
const json = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, any>;

async function run(extra: string[]) {
  const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...COMMON, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
}

describeShared('model.truncate_dim (sentence-transformers truncate_dim)', () => {
  it('metrics are computed at 16 dims; the exported model records truncate_dim 16 and encodes 16-dim vectors', async () => {
    const truncated = await run(['--set', 'model.truncate_dim=16']);
    const full = await run(['--set', 'evaluate.dims=[16]']);
    const metrics = json(join(truncated, 'metrics.json'));
    // the base model at truncate_dim 16 ranks as the full model cut to 16 dims and re-normalized (cosine either way)
    const at16 = json(join(full, 'metrics.json')).dims.base['16'] as Record<string, number>;
    for (const [k, v] of Object.entries(at16)) expect(metrics.models.base[k], k).toBeCloseTo(v, 6);
    expect(metrics.models.base).not.toEqual(json(join(full, 'metrics.json')).models.base);

    const env = json(join(truncated, 'env.json'));
    expect(env.encoders.base).toMatchObject({ truncate_dim: 16 });
    expect(env.encoders.finetuned).toMatchObject({ truncate_dim: 16 });

    const modelDir = join(truncated, 'model');
    expect(json(join(modelDir, 'config_sentence_transformers.json'))).toMatchObject({ truncate_dim: 16, similarity_fn_name: 'cosine' });
    const encoder = await new OrtBackend({ intra_op_threads: 1, batch_size: 8, execution_providers: ['cpu'] }, makeContext()).loadEncoder({ path: modelDir, query_prompt: '', document_prompt: '' }, 'x');
    try {
      expect(encoder.dim).toBe(16);
      const vs = await encoder.encode(['coffee at the airport', 'monthly rent'], { kind: 'document' });
      expect(vs.map((v) => v.length)).toEqual([16, 16]);
    } finally {
      await encoder.dispose();
    }
  }, 300_000);

  it('a truncate_dim over the model dimension is a config error at its line, with the valid range', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${BGE}\nmodel:\n  path: ${TINY_BERT}\n  truncate_dim: 65\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`exp.yaml:4:17 model.truncate_dim: 65 is more than the model's embedding dimension 64 (${TINY_BERT}); valid: integers from 1 to 64`);
    // 0 is refused by the schema
    writeFileSync(file, `extends: ${BGE}\nmodel:\n  path: ${TINY_BERT}\n  truncate_dim: 0\n`);
    const zero = await cli(['validate', file]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/exp\.yaml:4:17 model\.truncate_dim: must be >= 1/);
  });
});
