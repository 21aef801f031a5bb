import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../../../core/errors.js';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import { readSafetensors } from '../../../../core/safetensors.js';
import { BertModel, parseBertConfig, saveBertWeights, type BertInputs } from '../../../../plugins/backend/tfjs/bert.js';
import { selectTfjsDevice } from '../../../../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../../../../plugins/backend/tfjs/sentence.js';
import type { ModelSpec } from '../../../../core/types.js';
import { FIXTURE_DIR, TINY_BERT, describeShared } from '../../../helpers/shared.js';

interface EncodeFixture {
  texts: string[];
  input_ids: number[][];
  attention_mask: number[][];
  cls_normalized: number[][];
  mean_unnormalized: number[][];
}
const load = (): EncodeFixture => JSON.parse(readFileSync(join(FIXTURE_DIR, 'encode.json'), 'utf8')) as EncodeFixture;
const spec = (over: Partial<ModelSpec> = {}): ModelSpec => ({ path: TINY_BERT, query_prompt: '', document_prompt: '', ...over });
const maxAbs = (a: ArrayLike<number>[], b: number[][]): number => Math.max(...a.map((r, i) => Math.max(...Array.from(r, (v, j) => Math.abs(v - b[i]![j]!)))));

describeShared('BertModel parity with sentence-transformers (encode.json)', () => {
  for (const [device, gemm] of [['wasm', 'onnxruntime'], ['wasm', 'backend'], ['cpu', 'onnxruntime'], ['cpu', 'backend']] as const) {
    it(`${device}, products on ${gemm}: CLS+normalize and mean-pooled embeddings of the 20 probes within 1e-5`, async () => {
      const sel = await selectTfjsDevice(device, { gemm });
      expect(sel.backend).toBe(device);
      expect(String(sel.details.gemm)).toMatch(gemm === 'onnxruntime' ? /^onnxruntime/ : /^tfjs/);
      const fx = load();
      const cls = TfjsSentenceModel.load(loadModelLayout(TINY_BERT, spec()));
      expect(cls.layout.pooling).toBe('cls');
      expect(cls.layout.normalize).toBe(true);
      const inputs = cls.tokenize(fx.texts);
      expect(inputs.inputIds).toEqual(fx.input_ids);
      expect(inputs.attentionMask).toEqual(fx.attention_mask);
      expect(maxAbs(cls.embed(fx.texts, undefined, 8), fx.cls_normalized)).toBeLessThan(1e-5);
      cls.dispose();

      const mean = TfjsSentenceModel.load(loadModelLayout(TINY_BERT, spec({ pooling: 'mean', normalize: false })));
      const emb = mean.forward({ inputIds: fx.input_ids, attentionMask: fx.attention_mask });
      expect(maxAbs(emb.arraySync(), fx.mean_unnormalized)).toBeLessThan(1e-5);
      emb.dispose();
      mean.dispose();
      expect(tf.memory().numTensors).toBe(0);
    });
  }
});

/** The same encoder written with stock tfjs ops only (stock gradients), for the gradient check. */
function stockClsEmbedding(m: BertModel, x: BertInputs): tf.Tensor2D {
  const c = m.config;
  const W = (n: string) => m.weights.get(n)!;
  const [B, S, H, nh] = [x.inputIds.length, x.inputIds[0]!.length, c.hiddenSize, c.numHeads];
  const d = H / nh;
  const ln = (t: tf.Tensor, p: string) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, c.layerNormEps))), W(p + '.weight')), W(p + '.bias'));
  };
  const lin = (t: tf.Tensor, p: string) => tf.add(tf.matMul(t as tf.Tensor2D, W(p + '.weight') as tf.Tensor2D, false, true), W(p + '.bias'));
  const ids = tf.tensor1d(x.inputIds.flat(), 'int32');
  const maskAdd = tf.reshape(tf.mul(tf.sub(1, tf.tensor2d(x.attentionMask.flat(), [B, S])), -3.4028234663852886e38), [B, 1, 1, S]);
  const pos = tf.tile(tf.gather(W('embeddings.position_embeddings.weight'), tf.range(0, S, 1, 'int32')), [B, 1]);
  const typ = tf.gather(W('embeddings.token_type_embeddings.weight'), tf.zeros([B * S], 'int32'));
  let h = ln(tf.add(tf.add(tf.gather(W('embeddings.word_embeddings.weight'), ids), pos), typ), 'embeddings.LayerNorm');
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, S, nh, d]), [0, 2, 1, 3]) as tf.Tensor4D;
    const scores = tf.add(tf.div(tf.matMul(split(lin(h, p + 'attention.self.query')), split(lin(h, p + 'attention.self.key')), false, true), Math.sqrt(d)), maskAdd);
    const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), split(lin(h, p + 'attention.self.value'))), [0, 2, 1, 3]), [B * S, H]);
    const h1 = ln(tf.add(lin(ctx, p + 'attention.output.dense'), h), p + 'attention.output.LayerNorm');
    const i = lin(h1, p + 'intermediate.dense');
    const g = tf.mul(tf.mul(i, 0.5), tf.add(1, tf.erf(tf.div(i, Math.SQRT2))));
    h = ln(tf.add(lin(g, p + 'output.dense'), h1), p + 'output.LayerNorm');
  }
  const cls = tf.reshape(tf.slice(tf.reshape(h, [B, S, H]), [0, 0, 0], [B, 1, H]), [B, H]);
  return tf.div(cls, tf.norm(cls, 2, 1, true)) as tf.Tensor2D;
}

describeShared('BertModel gradients and weights', () => {
  beforeAll(async () => {
    await selectTfjsDevice('cpu', { gemm: 'backend' });
  });

  it.each(['backend', 'onnxruntime'] as const)('every weight gradient equals the stock-op implementation (cpu, products on %s) within 1e-5, firstTokenOnly included', async (gemm) => {
    await selectTfjsDevice('cpu', { gemm });
    const fx = load();
    const m = BertModel.load(TINY_BERT);
    const x = { inputIds: fx.input_ids.slice(0, 5), attentionMask: fx.attention_mask.slice(0, 5) };
    const cut = Math.max(...x.attentionMask.map((r) => r.reduce((a, b) => a + b, 0)));
    const batch = { inputIds: x.inputIds.map((r) => r.slice(0, cut)), attentionMask: x.attentionMask.map((r) => r.slice(0, cut)) };
    const r = tf.randomNormal([5, 64], 0, 1, 'float32', 3);
    const lossOf = (emb: tf.Tensor2D) => tf.sum(tf.mul(emb, r)) as tf.Scalar;
    const ours = (firstTokenOnly: boolean) => () => {
      const h = m.forward(batch, { firstTokenOnly });
      const cls = tf.reshape(tf.slice(h, [0, 0, 0], [5, 1, 64]), [5, 64]);
      return lossOf(tf.div(cls, tf.norm(cls, 2, 1, true)) as tf.Tensor2D);
    };
    const vars = m.trainableVariables;
    const ref = tf.variableGrads(() => lossOf(stockClsEmbedding(m, batch)), vars);
    for (const mode of [false, true]) {
      const got = tf.variableGrads(ours(mode), vars);
      expect(Math.abs(got.value.dataSync()[0]! - ref.value.dataSync()[0]!)).toBeLessThan(1e-5);
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(ref.grads).sort());
      for (const [name, g] of Object.entries(ref.grads)) {
        const diff = tf.max(tf.abs(tf.sub(got.grads[name]!, g))).dataSync()[0]!;
        expect(diff, name).toBeLessThan(1e-5);
      }
    }
    const word = ref.grads[vars[0]!.name]!;
    expect(word.shape).toEqual([1200, 64]); // dense gradient; absent tokens get zero rows
    m.dispose();
  });

  it('saveBertWeights writes the original names and reloads bit-exactly (pooler kept)', () => {
    const m = BertModel.load(TINY_BERT);
    const path = join(mkdtempSync(join(tmpdir(), 'ftrun-bert-')), 'model.safetensors');
    saveBertWeights(m, path);
    const src = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    const back = readSafetensors(path);
    expect([...back.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, v] of src) expect(Buffer.from(back.get(k)!.data.buffer).equals(Buffer.from(v.data.buffer)), k).toBe(true);
    const again = BertModel.fromTensors(m.config, back);
    for (const [k, v] of m.weights) expect(Buffer.from(again.weights.get(k)!.dataSync().buffer).equals(Buffer.from(v.dataSync().buffer))).toBe(true);
    expect(m.extras.has('pooler.dense.weight')).toBe(true);
    expect(m.weights.has('pooler.dense.weight')).toBe(false);
    m.dispose();
    again.dispose();
  });

  it('accepts a `bert.` prefix and keeps head tensors; integer buffers are dropped on save', () => {
    const src = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    const prefixed = new Map([...src].map(([k, v]) => [k.startsWith('pooler') ? k : 'bert.' + k, v]));
    prefixed.set('cls.predictions.bias', { dtype: 'F32', shape: [1200], data: new Float32Array(1200).fill(0.5) });
    prefixed.set('bert.embeddings.position_ids', { dtype: 'I64', shape: [1, 128], data: Float32Array.from({ length: 128 }, (_, i) => i) });
    const cfg = parseBertConfig(JSON.parse(readFileSync(join(TINY_BERT, 'config.json'), 'utf8')));
    const m = BertModel.fromTensors(cfg, prefixed);
    expect(m.prefix).toBe('bert.');
    expect(m.weights.has('bert.encoder.layer.1.output.dense.weight')).toBe(true);
    const out = m.exportTensors();
    expect(out.has('cls.predictions.bias')).toBe(true);
    expect(out.has('bert.embeddings.position_ids')).toBe(false);
    expect(out.size).toBe(src.size + 1);
    m.dispose();
  });

  it('dropout: training mode is seeded and differs from eval; rate 0 changes nothing', () => {
    const cfg = parseBertConfig({ model_type: 'bert', vocab_size: 50, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 16 });
    const m = BertModel.random(cfg, 5);
    const x = { inputIds: [[2, 7, 9, 3], [2, 8, 3, 0]], attentionMask: [[1, 1, 1, 1], [1, 1, 1, 0]] };
    const run = (o: object) => tf.tidy(() => Array.from(m.forward(x, o).dataSync()));
    expect(run({ training: true, seed: 1 })).toEqual(run({ training: true, seed: 1 }));
    expect(run({ training: true, seed: 1 })).not.toEqual(run({ training: true, seed: 2 }));
    expect(run({ training: true, seed: 1 })).not.toEqual(run({}));
    m.dispose();
    const fixture = BertModel.load(TINY_BERT); // dropout 0 in its config
    const y = { inputIds: [[2, 7, 9, 3]], attentionMask: [[1, 1, 1, 1]] };
    const a = tf.tidy(() => Array.from(fixture.forward(y, { training: true }).dataSync()));
    expect(a).toEqual(tf.tidy(() => Array.from(fixture.forward(y).dataSync())));
    fixture.dispose();
  });
});

describe('BertModel: unsupported models', () => {
  const base = { model_type: 'bert', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 };
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof UserError ? `${e.code}: ${e.message}` : String(e);
    }
    return undefined;
  };

  it('names what is supported', () => {
    expect(codeOf(() => parseBertConfig({ ...base, model_type: 'xlm-roberta' }, 'm/config.json'))).toMatch(
      /^E_MODEL: m\/config\.json: unsupported model_type "xlm-roberta"; supported: model_type "bert" with hidden_act "gelu"/,
    );
    expect(codeOf(() => parseBertConfig({ ...base, hidden_act: 'gelu_new' }))).toMatch(/unsupported hidden_act "gelu_new"/);
    expect(codeOf(() => parseBertConfig({ ...base, position_embedding_type: 'relative_key' }))).toMatch(/unsupported position_embedding_type/);
    expect(codeOf(() => parseBertConfig({ ...base, num_attention_heads: 3 }))).toMatch(/not a multiple of num_attention_heads 3/);
    expect(parseBertConfig(base)).toMatchObject({ maxPositions: 512, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1 });
  });

  it('reports missing and mis-shaped weights', () => {
    const cfg = parseBertConfig(base);
    expect(codeOf(() => BertModel.fromTensors(cfg, new Map(), 'x.safetensors'))).toMatch(
      /^E_MODEL: x\.safetensors: missing BERT weights embeddings\.word_embeddings\.weight, .* and \d+ more/,
    );
    const m = BertModel.random(cfg);
    const t = m.exportTensors();
    t.set('encoder.layer.0.intermediate.dense.weight', { shape: [8, 16], data: new Float32Array(128) });
    expect(codeOf(() => BertModel.fromTensors(cfg, t, 'y'))).toMatch(/y: weight encoder\.layer\.0\.intermediate\.dense\.weight has shape \[8,16\], config\.json implies \[16,8\]/);
    m.dispose();
  });
});
