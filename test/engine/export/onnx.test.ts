import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { UserError } from '../../../core/errors.js';
import { exportBertOnnx } from '../../../engine/export/onnx.js';
import { readSafetensors, writeSafetensors } from '../../../core/safetensors.js';
import OrtBackend from '../../../plugins/backend/ort.js';
import { exportRandomBertOnnx } from '../../../bench/encode-onnx.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, FIXTURE_DIR, ROOT, TINY_BERT } from '../../helpers/shared.js';
import { bytesOf, decodeFields, text, values } from './decode.js';

interface EncodeJson {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  cls_normalized: number[][];
  mean_unnormalized: number[][];
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ftrun-onnx-'));
const int64 = (rows: number[][]) => {
  const s = rows[0]!.length;
  const data = new BigInt64Array(rows.length * s);
  rows.forEach((r, i) => r.forEach((v, j) => (data[i * s + j] = BigInt(v))));
  return new ort.Tensor('int64', data, [rows.length, s]);
};
const feeds = (ids: number[][], mask: number[][]) => ({ input_ids: int64(ids), attention_mask: int64(mask), token_type_ids: int64(ids.map((r) => r.map(() => 0))) });
const open = (file: string) => ort.InferenceSession.create(file, { intraOpNumThreads: 1 });

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Rows of a [n, dim] tensor. */
const rows = (t: ort.Tensor) => Array.from({ length: t.dims[0]! }, (_, i) => (t.data as Float32Array).slice(i * t.dims[1]!, (i + 1) * t.dims[1]!));

describeShared('ONNX export of the tiny-bert fixture', () => {
  const enc = () => JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as EncodeJson;
  let dir: string;
  let ours: ort.InferenceSession;
  let reference: ort.InferenceSession;

  beforeAll(async () => {
    dir = tmp();
    await exportBertOnnx(TINY_BERT, join(dir, 'model.onnx'));
    ours = await open(join(dir, 'model.onnx'));
    reference = await open(join(TINY_BERT, 'model.onnx'));
  });

  it('declares int64 [batch, sequence] inputs, a float [batch, sequence, 64] output, opset 17 and IR 8', () => {
    expect(ours.inputNames).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(ours.outputNames).toEqual(['last_hidden_state']);
    const meta = ours.outputMetadata[0]!;
    expect(meta.isTensor && meta.shape).toEqual(['batch', 'sequence', 64]);
    const model = decodeFields(readFileSync(join(dir, 'model.onnx')));
    expect(values(model, 1)).toEqual([8n]); // ir_version
    expect(values(decodeFields(bytesOf(model, 8)), 2)).toEqual([17n]); // opset_import.version
    expect(text(bytesOf(model, 2))).toBe('ftrun');
  });

  it('last_hidden_state matches the fixture model.onnx within 1e-5 on the 20 probe texts', async () => {
    const e = enc();
    const a = (await ours.run(feeds(e.input_ids, e.attention_mask))).last_hidden_state!;
    const b = (await reference.run(feeds(e.input_ids, e.attention_mask))).last_hidden_state!;
    expect(a.dims).toEqual(b.dims);
    expect(maxAbsDiff(a.data as Float32Array, b.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('CLS + L2 normalize matches cls_normalized within 1e-5', async () => {
    const e = enc();
    const h = (await ours.run(feeds(e.input_ids, e.attention_mask))).last_hidden_state!;
    const [n, seq, dim] = h.dims as number[];
    const data = h.data as Float32Array;
    for (let i = 0; i < n!; i++) {
      const cls = data.slice(i * seq! * dim!, i * seq! * dim! + dim!);
      const norm = Math.hypot(...cls);
      expect(maxAbsDiff(cls.map((x) => x / norm), e.cls_normalized[i]!)).toBeLessThan(1e-5);
    }
  });

  it('accepts any batch size and sequence length (dynamic dims)', async () => {
    const e = enc();
    const shapes: Array<[number, number]> = [[3, 7], [1, 5], [5, e.input_ids[0]!.length]];
    for (const [n, s] of shapes) {
      const ids = e.input_ids.slice(0, n).map((r) => r.slice(0, s));
      const mask = e.attention_mask.slice(0, n).map((r) => r.slice(0, s));
      const a = (await ours.run(feeds(ids, mask))).last_hidden_state!;
      const b = (await reference.run(feeds(ids, mask))).last_hidden_state!;
      expect(a.dims).toEqual([n, s, 64]);
      expect(maxAbsDiff(a.data as Float32Array, b.data as Float32Array)).toBeLessThan(1e-5);
    }
  });

  it('optional sentence_embedding output: cls + normalize (opset 18), mean and max pooling (opset 17)', async () => {
    const e = enc();
    const run = async (opset: number, pooling: 'cls' | 'mean' | 'max', normalize: boolean, n = 20) => {
      const file = join(dir, `pooled-${opset}-${pooling}.onnx`);
      await exportBertOnnx(TINY_BERT, file, { opset, sentenceEmbedding: { pooling, normalize } });
      const s = await open(file);
      const out = await s.run(feeds(e.input_ids.slice(0, n), e.attention_mask.slice(0, n)));
      await s.release();
      expect(out.sentence_embedding!.dims).toEqual([n, 64]);
      return rows(out.sentence_embedding!);
    };
    const check = (got: Float32Array[], want: number[][]) => got.forEach((v, i) => expect(maxAbsDiff(v, want[i]!)).toBeLessThan(1e-5));
    check(await run(18, 'cls', true), e.cls_normalized);
    check(await run(17, 'mean', false), e.mean_unnormalized);
    const extra = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'st-tiny-bert-extra.json'), 'utf8')) as { max: number[][] };
    check(await run(17, 'max', false, extra.max.length), extra.max);
  });

  it('the ort backend evaluates an exported model directory (onnx/model.onnx) with the same embeddings', async () => {
    const model = tmp();
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json']) {
      copyFileSync(join(TINY_BERT, f), join(model, f));
    }
    cpSync(join(TINY_BERT, '1_Pooling'), join(model, '1_Pooling'), { recursive: true });
    cpSync(join(TINY_BERT, '2_Normalize'), join(model, '2_Normalize'), { recursive: true });
    await exportBertOnnx(TINY_BERT, join(model, 'onnx', 'model.onnx'));
    const encoder = await new OrtBackend({ intra_op_threads: 1, batch_size: 8, execution_providers: ['cpu'] }, makeContext()).loadEncoder({ path: model, query_prompt: '', document_prompt: '' }, 'x');
    try {
      expect(encoder.info.onnx_file).toBe(join(model, 'onnx', 'model.onnx'));
      const e = enc();
      const vecs = await encoder.encode(e.texts, { kind: 'document' });
      vecs.forEach((v, i) => expect(maxAbsDiff(v, e.cls_normalized[i]!)).toBeLessThan(1e-5));
    } finally {
      await encoder.dispose();
    }
  });

  it('has the patterns ONNX Runtime fuses (Add + LayerNorm → SkipLayerNormalization, erf GELU → BiasGelu)', async () => {
    const optimized = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(join(dir, 'model.onnx'), { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized, logSeverityLevel: 3 });
    await s.release();
    const graph = decodeFields(bytesOf(decodeFields(readFileSync(optimized)), 7));
    const ops = values(graph, 1).map((n) => text(bytesOf(decodeFields(n as Uint8Array), 4)));
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect([count('SkipLayerNormalization'), count('BiasGelu'), count('Erf')]).toEqual([4, 2, 0]);
  });

  it('weights with a `bert.` prefix export to the same bytes', async () => {
    const model = tmp();
    copyFileSync(join(TINY_BERT, 'config.json'), join(model, 'config.json'));
    const prefixed = new Map([...readSafetensors(join(TINY_BERT, 'model.safetensors'))].map(([k, t]) => [`bert.${k}`, { shape: t.shape, data: t.data }]));
    writeSafetensors(join(model, 'model.safetensors'), prefixed);
    await exportBertOnnx(model, join(model, 'model.onnx'));
    expect(Buffer.compare(readFileSync(join(model, 'model.onnx')), readFileSync(join(dir, 'model.onnx')))).toBe(0);
  });
});

describe('ONNX export errors and random models', () => {
  it('names the missing file, a bad config and an unsupported opset', async () => {
    const empty = tmp();
    await expect(exportBertOnnx(empty, join(empty, 'm.onnx'))).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining(join(empty, 'config.json')) });
    writeFileSync(join(empty, 'config.json'), JSON.stringify({ model_type: 'roberta' }));
    writeFileSync(join(empty, 'model.safetensors'), '');
    await expect(exportBertOnnx(empty, join(empty, 'm.onnx'))).rejects.toThrow(/unsupported model_type "roberta"/);
    await expect(exportBertOnnx(empty, join(empty, 'm.onnx'), { opset: 13 })).rejects.toBeInstanceOf(UserError);
    await expect(exportBertOnnx(empty, join(empty, 'm.onnx'), { opset: 13 })).rejects.toThrow(/opset 13; supported: 17/);
  });

  it('exportRandomBertOnnx writes a model of the requested shape that onnxruntime runs', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'sub'));
    const file = join(dir, 'sub', 'random.onnx');
    await exportRandomBertOnnx({ hidden_size: 48, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 96, vocab_size: 100, max_position_embeddings: 32 }, file);
    const s = await open(file);
    const out = (await s.run(feeds([[2, 17, 42, 3], [2, 9, 3, 0]], [[1, 1, 1, 1], [1, 1, 1, 0]]))).last_hidden_state!;
    await s.release();
    expect(out.dims).toEqual([2, 4, 48]);
    const data = out.data as Float32Array;
    expect(data.every(Number.isFinite)).toBe(true);
    // post-LN with LayerNorm weight 1 / bias 0: every token vector has mean ≈ 0 and variance ≈ 1
    const tok = data.slice(0, 48);
    const mean = tok.reduce((a, b) => a + b, 0) / 48;
    expect(Math.abs(mean)).toBeLessThan(1e-4);
    expect(tok.reduce((a, b) => a + (b - mean) ** 2, 0) / 48).toBeCloseTo(1, 3);
  });
});
