import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import type { ModelSpec } from '../../../core/types.js';
import OrtBackend, { type OrtOptions } from '../../../plugins/backend/ort.js';
import { makeContext } from '../../helpers/context.js';
import { FIXTURE_DIR, ROOT, TINY_BERT, describeShared } from '../../helpers/shared.js';

const fx = () => JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as { texts: string[]; cls_normalized: number[][]; mean_unnormalized: number[][] };
// Python sentence-transformers 6.0.1 on the same model: max pooling, a query prompt, max_seq_length 8
const extra = () => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'st-tiny-bert-extra.json'), 'utf8')) as {
  prompt: string;
  max: number[][];
  query_prompt_cls: number[][];
  max_len_8_cls: number[][];
};
const OPTS: OrtOptions = { intra_op_threads: 2, batch_size: 32, execution_providers: ['cpu'] };
const spec = (o: Partial<ModelSpec> = {}): ModelSpec => ({ path: TINY_BERT, query_prompt: '', document_prompt: '', ...o });

function expectClose(actual: Float32Array[], expected: number[][], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  actual.forEach((v, i) => {
    expect(v.length).toBe(expected[i]!.length);
    v.forEach((x, d) => (worst = Math.max(worst, Math.abs(x - expected[i]![d]!))));
  });
  expect(worst).toBeLessThan(tol);
}

async function encode(o: Partial<OrtOptions>, s: Partial<ModelSpec>, texts: string[], kind: 'query' | 'document' = 'document') {
  const enc = await new OrtBackend({ ...OPTS, ...o }, makeContext()).loadEncoder(spec(s), 'base');
  try {
    return { vecs: await enc.encode(texts, { kind }), enc };
  } finally {
    await enc.dispose();
  }
}

describeShared('ort backend on the tiny-bert fixture', () => {
  it('matches sentence-transformers (CLS + Normalize) within 1e-5, and reports its setup', async () => {
    const progress: number[] = [];
    const backend = new OrtBackend({ ...OPTS, batch_size: 8 }, makeContext());
    const enc = await backend.loadEncoder(spec(), 'base');
    const vecs = await enc.encode(fx().texts, { kind: 'document', onProgress: (d) => progress.push(d) });
    await enc.dispose();
    expectClose(vecs, fx().cls_normalized);
    expect(enc.dim).toBe(64);
    expect(progress).toEqual([8, 16, 20]);
    expect(enc.info).toMatchObject({ backend: 'ort', device: 'cpu', intra_op_threads: 2, pooling: 'cls', normalize: true, max_seq_length: 64, model_dir: TINY_BERT, onnx_file: join(TINY_BERT, 'model.onnx') });
    expect(OrtBackend.canTrain).toBe(true);
  });

  it('mean pooling without normalize matches mean_unnormalized; max pooling matches Pooling(max)', async () => {
    expectClose((await encode({}, { pooling: 'mean', normalize: false }, fx().texts)).vecs, fx().mean_unnormalized);
    expectClose((await encode({}, { pooling: 'max', normalize: false }, fx().texts.slice(0, 4))).vecs, extra().max);
  });

  it('length-sorted batching does not change results or their order', async () => {
    const texts = fx().texts;
    const rev = [...texts].reverse();
    const { vecs } = await encode({ batch_size: 3, intra_op_threads: 0 }, {}, rev);
    expectClose(vecs.reverse(), fx().cls_normalized);
    const one = await encode({ batch_size: 1 }, {}, texts.slice(0, 5));
    expectClose(one.vecs, fx().cls_normalized.slice(0, 5));
    expect((await encode({}, {}, [])).vecs).toEqual([]);
  });

  it('prefixes queries with the query prompt (not documents) and honours max_seq_length', async () => {
    const x = extra();
    const texts = fx().texts.slice(0, 3);
    expectClose((await encode({}, { query_prompt: x.prompt }, texts, 'query')).vecs, x.query_prompt_cls);
    expectClose((await encode({}, { query_prompt: x.prompt }, texts, 'document')).vecs, fx().cls_normalized.slice(0, 3));
    expectClose((await encode({}, { max_seq_length: 8 }, texts)).vecs, x.max_len_8_cls);
  });

  it('without an ONNX file: serves the BERT graph generated from model.safetensors (same embeddings)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ftrun-ort-'));
    try {
      cpSync(TINY_BERT, d, { recursive: true, filter: (src) => !src.endsWith('.onnx') });
      const enc = await new OrtBackend(OPTS, makeContext()).loadEncoder(spec({ path: d }), 'base');
      const vecs = await enc.encode(fx().texts, { kind: 'document' });
      await enc.dispose();
      expectClose(vecs, fx().cls_normalized);
      expect(enc.info.onnx_file).toBe(`(generated from ${join(d, 'model.safetensors')})`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('with neither an ONNX file nor safetensors weights: E_MODEL saying which files were looked for', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ftrun-ort-'));
    try {
      cpSync(TINY_BERT, d, { recursive: true, filter: (src) => !src.endsWith('.onnx') && !src.endsWith('.safetensors') });
      const err = await new OrtBackend(OPTS, makeContext()).loadEncoder(spec({ path: d }), 'base').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).code).toBe('E_MODEL');
      expect((err as UserError).message).toMatch(`model base (${d}) has no ONNX file (looked for onnx/model.onnx and model.onnx) and no model.safetensors.`);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

it('declares a closed options schema with defaults and descriptions', () => {
  const s = OrtBackend.schema as { additionalProperties: boolean; properties: Record<string, { default: unknown; description: string }> };
  expect(OrtBackend.type).toBe('ort');
  expect(s.additionalProperties).toBe(false);
  expect(Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, v.default]))).toEqual({ intra_op_threads: 2, batch_size: 32, execution_providers: ['cpu'] });
  for (const p of Object.values(s.properties)) expect(p.description.length).toBeGreaterThan(10);
});
