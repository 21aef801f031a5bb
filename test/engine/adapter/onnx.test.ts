/**
 * The tuned ONNX model: the fixture's model.onnx spliced with pooling, Normalize and an adapter.
 * Served by the `ort` backend from the adapter directory, it must encode like the base `ort`
 * encoder wrapped with the same adapter, for each pooling mode, normalisation and adapter kind;
 * its document_embedding output (apply_to query) must be the base vectors.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { AdapterEncoder, loadAdapterEncoder } from '../../../engine/adapter/encoder.js';
import { loadAdapter } from '../../../engine/adapter/save.js';
import { trainAdapter } from '../../../engine/adapter/train.js';
import MultipleNegativesRankingLoss from '../../../plugins/loss/multiple-negatives-ranking.js';
import { initAdapter, type AdapterWeights } from '../../../engine/adapter/model.js';
import { buildAdapterOnnx, exportAdapterOnnx, onnxBaseOf } from '../../../engine/adapter/onnx.js';
import { Rng } from '../../../core/rng.js';
import { Tokenizer } from '../../../engine/tokenizer.js';
import type { Encoder, ModelSpec } from '../../../core/types.js';
import OrtBackend from '../../../plugins/backend/ort.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, FIXTURE_DIR, TINY_BERT } from '../../helpers/shared.js';
import { adapterRequest } from './helpers.js';

const open: Encoder[] = [];
afterAll(async () => {
  for (const e of open) await e.dispose();
});

async function ortEncoder(spec: Partial<ModelSpec> & { path: string }): Promise<Encoder> {
  const backend = new OrtBackend({ intra_op_threads: 1, batch_size: 32, execution_providers: ['cpu'] }, makeContext());
  const e = await backend.loadEncoder({ query_prompt: '', document_prompt: '', ...spec }, 'x');
  open.push(e);
  return e;
}

function perturbed(kind: 'linear' | 'mlp', seed: number): AdapterWeights {
  const w = initAdapter(kind, 64, 32, seed);
  const rng = new Rng(seed);
  for (const t of w.tensors.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + 0.1 * rng.normal();
  return w;
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.flatMap((v, i) => [...v].map((x, j) => Math.abs(x - b[i]![j]!))));

describeShared('adapter ONNX export', () => {
  const texts = (JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as { texts: string[] }).texts;
  const cases: Array<{ pooling: 'cls' | 'mean' | 'max'; normalize: boolean; kind: 'linear' | 'mlp'; applyTo: 'query' | 'both' }> = [
    { pooling: 'cls', normalize: true, kind: 'linear', applyTo: 'query' },
    { pooling: 'mean', normalize: false, kind: 'mlp', applyTo: 'both' },
    { pooling: 'max', normalize: true, kind: 'mlp', applyTo: 'query' },
  ];

  for (const c of cases) {
    it(`${c.pooling} pooling, normalize ${c.normalize}, ${c.kind} adapter: the ort backend serves the tuned model`, async () => {
      const base = await ortEncoder({ path: TINY_BERT, pooling: c.pooling, normalize: c.normalize });
      const onnxBase = onnxBaseOf(base)!;
      expect(onnxBase).toMatchObject({ output: 'last_hidden_state', pooling: c.pooling, normalize: c.normalize });
      const w = perturbed(c.kind, 3);
      const dir = mkdtempSync(join(tmpdir(), 'ftrun-adapter-onnx-'));
      const file = await exportAdapterOnnx(onnxBase, w, c.applyTo, dir);
      const expected = await new AdapterEncoder(base, w, c.applyTo).encode(texts, { kind: 'query' });
      const served = await ortEncoder({ path: dir });
      expect(served.info.onnx_file).toBe(file);
      expect(served.info.output).toBe('sentence_embedding');
      const got = await served.encode(texts, { kind: 'query' });
      expect(maxDiff(got, expected)).toBeLessThan(1e-5);
      // the adapter really changes the vectors
      expect(maxDiff(got, await base.encode(texts, { kind: 'query' }))).toBeGreaterThan(1e-2);

      const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
      expect(session.outputNames).toEqual(c.applyTo === 'query' ? ['sentence_embedding', 'document_embedding'] : ['sentence_embedding']);
      if (c.applyTo === 'query') {
        const docs = await runOutput(session, texts, 'document_embedding');
        expect(maxDiff(docs, await base.encode(texts, { kind: 'document' }))).toBeLessThan(1e-5);
      }
      await session.release();
    });
  }

  it('trainAdapter on an ort base writes the ONNX file beside the adapter, and both encode alike', async () => {
    const base = await ortEncoder({ path: TINY_BERT });
    const items = texts.slice(0, 12).map((t, i) => ({ anchor: t, positive: texts[12 + (i % 8)]!, label: String(i % 8) }));
    const res = await trainAdapter(
      adapterRequest({
        encoder: base,
        examples: { shapes: ['pairs'], items },
        loss: await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cos' }, makeContext()),
        training: { max_steps: 3, batch_size: 4, learning_rate: 0.05, adapter: { apply_to: 'query' } },
      }),
    );
    expect(loadAdapter(res.modelDir).meta.onnx).toBe('onnx/model.onnx');
    expect(res.info.onnx_file).toBe(join(res.modelDir, 'onnx', 'model.onnx'));
    const wrapped = await loadAdapterEncoder({ ...base, encode: (t, o) => base.encode(t, o), dispose: async () => {} }, res.modelDir);
    const served = await ortEncoder({ path: res.modelDir });
    const queries = texts.slice(0, 6);
    expect(maxDiff(await served.encode(queries, { kind: 'query' }), await wrapped.encode(queries, { kind: 'query' }))).toBeLessThan(1e-5);
  });

  it('refuses a model whose output is neither token nor sentence vectors, and names are prefixed', async () => {
    const bytes = readFileSync(join(TINY_BERT, 'model.onnx'));
    const w = initAdapter('linear', 64, 0, 1);
    expect(() => buildAdapterOnnx(bytes, { onnxFile: 'm.onnx', output: 'nope', pooling: 'cls', normalize: true }, w, 'both')).toThrow(/no output named nope/);
    const out = buildAdapterOnnx(bytes, { onnxFile: 'm.onnx', output: 'last_hidden_state', pooling: 'cls', normalize: true }, w, 'both');
    const s = Buffer.from(out).toString('latin1');
    expect(s).toContain('ftrun_adapter/linear.weight.T');
    expect(out.length).toBeGreaterThan(bytes.length);
  });
});

async function runOutput(session: ort.InferenceSession, texts: string[], output: string): Promise<Float32Array[]> {
  const tok = Tokenizer.fromFile(join(TINY_BERT, 'tokenizer.json'));
  const b = tok.encodeBatch(texts, 64);
  const t = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, b.seqLen]);
  const r = await session.run({ input_ids: t(b.inputIds), attention_mask: t(b.attentionMask), token_type_ids: t(b.tokenTypeIds) }, [output]);
  const data = r[output]!.data as Float32Array;
  const dim = r[output]!.dims[1]!;
  return texts.map((_, i) => data.slice(i * dim, (i + 1) * dim));
}
