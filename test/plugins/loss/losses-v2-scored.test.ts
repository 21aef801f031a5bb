/**
 * The scored-pair, distillation and Matryoshka losses against sentence-transformers 6.0.0's own loss
 * code (../shared/fixtures/sentence-transformers/losses-v2.json, see its README): the value and
 * ∂value/∂every embedding column of each case, on the tfjs cpu and wasm backends, within 1e-5
 * (relative where the value or gradient is large).
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configAjv } from '../../../core/config/ajv.js';
import type { LossBatch, LossPlugin } from '../../../core/train/loss.js';
import type { PluginClass } from '../../../core/types.js';
import angle from '../../../plugins/loss/angle.js';
import cosent from '../../../plugins/loss/cosent.js';
import cosineSimilarity from '../../../plugins/loss/cosine-similarity.js';
import distillKlDiv from '../../../plugins/loss/distill-kl-div.js';
import marginMse from '../../../plugins/loss/margin-mse.js';
import matryoshka from '../../../plugins/loss/matryoshka.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared } from '../../helpers/shared.js';
import { loadLossesV2, type Matrix, type V2Case, type V2Fixture } from './losses-v2.js';

type LossClass = PluginClass<LossPlugin | Promise<LossPlugin>>;

/** Each case: the plugin and options that reproduce it (sentence-transformers' kwargs in ftrun's names). */
const CASES: Array<{ id: string; plugin: LossClass; options: Record<string, unknown> }> = [
  { id: 'cosent/pair', plugin: cosent, options: {} },
  { id: 'angle/pair', plugin: angle, options: {} },
  { id: 'angle/triplet/no_labels', plugin: angle, options: {} },
  { id: 'cosine_similarity/pair', plugin: cosineSimilarity, options: {} },
  { id: 'margin_mse/triplet/margin_label', plugin: marginMse, options: {} },
  { id: 'margin_mse/4col/margin_labels', plugin: marginMse, options: {} },
  { id: 'margin_mse/4col/score_labels', plugin: marginMse, options: {} },
  { id: 'distill_kl_div/triplet', plugin: distillKlDiv, options: {} },
  { id: 'distill_kl_div/4col', plugin: distillKlDiv, options: {} },
  { id: 'distill_kl_div/4col/temperature2', plugin: distillKlDiv, options: { temperature: 2 } },
  { id: 'distill_kl_div/4col/student0.5_teacher2', plugin: distillKlDiv, options: { student_temperature: 0.5, teacher_temperature: 2 } },
  { id: 'matryoshka/mnrl/triplet/dims32-16-8-4', plugin: matryoshka, options: { loss: { type: 'multiple-negatives-ranking' }, dims: [32, 16, 8, 4] } },
  {
    id: 'matryoshka/mnrl/triplet/dims32-16-8-4/weights1-0.5-0.25-0.125',
    plugin: matryoshka,
    options: { loss: { type: 'multiple-negatives-ranking' }, dims: [32, 16, 8, 4], weights: [1, 0.5, 0.25, 0.125] },
  },
  // sentence-transformers' self-check: Matryoshka(CachedMNRL) = Matryoshka(MNRL) (GradCache is the seam's, not compute()'s).
  {
    id: 'matryoshka/mnrl/triplet/dims32-16-8-4/weights1-0.5-0.25-0.125',
    plugin: matryoshka,
    options: { loss: { type: 'cached-multiple-negatives-ranking', mini_batch_size: 2 }, dims: [32, 16, 8, 4], weights: [1, 0.5, 0.25, 0.125] },
  },
  { id: 'matryoshka/cosent/pair/dims32-16-8-4', plugin: matryoshka, options: { loss: { type: 'cosent' }, dims: [32, 16, 8, 4] } },
  {
    id: 'matryoshka/cosent/pair/dims32-16-8-4/weights1-0.5-0.25-0.125',
    plugin: matryoshka,
    options: { loss: { type: 'cosent', scale: 20 }, dims: [32, 16, 8, 4], weights: [1, 0.5, 0.25, 0.125] },
  },
];

/** Options with the plugin's schema defaults filled, as validation gives them to create(). */
async function make(plugin: LossClass, options: Record<string, unknown>): Promise<LossPlugin> {
  const o = structuredClone(options);
  expect(configAjv({ useDefaults: true }).validate(plugin.schema, o)).toBe(true);
  return (await new plugin(o, makeContext())) as LossPlugin;
}

/** ST column name → LossBatch column (sentence1/query/anchor, sentence2/positive, negative_i). */
function role(column: string): 'anchor' | 'positive' | number {
  if (column === 'sentence1' || column === 'query' || column === 'anchor') return 'anchor';
  if (column === 'sentence2' || column === 'positive') return 'positive';
  const m = /^negative(?:_(\d+))?$/.exec(column);
  if (!m) throw new Error(`unknown column ${column}`);
  return m[1] === undefined ? 0 : Number(m[1]) - 1;
}

/** Value and gradients of one case on the current backend. */
function run(loss: LossPlugin, fx: V2Fixture, c: V2Case): { value: number; grads: Record<string, Matrix> } {
  const vars = c.columns.map((col) => tf.variable(tf.tensor2d(fx.tensors[c.inputs[col]!]!), true, `${col}_${Math.random()}`));
  const labels = c.labels;
  const { value, grads } = tf.variableGrads(() => {
    const batch: LossBatch = { anchor: undefined as unknown as tf.Tensor2D };
    const negatives: tf.Tensor2D[] = [];
    c.columns.forEach((col, i) => {
      const r = role(col);
      if (r === 'anchor') batch.anchor = vars[i] as tf.Variable<tf.Rank.R2>;
      else if (r === 'positive') batch.positive = vars[i] as tf.Variable<tf.Rank.R2>;
      else negatives[r] = vars[i] as tf.Variable<tf.Rank.R2>;
    });
    if (negatives.length) {
      batch.negatives = negatives;
      batch.negative = negatives[0];
    }
    if (labels !== null) {
      const isMatrix = Array.isArray(labels[0]);
      // Scored pairs: labels are the scores; distillation: the teacher values per row.
      if (c.id.startsWith('margin_mse') || c.id.startsWith('distill')) batch.teacher = tf.tensor2d(isMatrix ? (labels as Matrix) : (labels as number[]).map((v) => [v]));
      else batch.scores = tf.tensor1d(labels as number[]);
    }
    return loss.compute(batch);
  }, vars);
  const out = { value: value.dataSync()[0]!, grads: Object.fromEntries(c.columns.map((col, i) => [col, grads[vars[i]!.name]!.arraySync() as Matrix])) };
  tf.dispose([value, ...Object.values(grads), ...vars]);
  return out;
}

/** Largest |a − b| / max(1, |b|) over a matrix. */
function maxRelErr(a: Matrix, b: Matrix): number {
  let m = 0;
  b.forEach((row, r) => row.forEach((v, k) => (m = Math.max(m, Math.abs(a[r]![k]! - v) / Math.max(1, Math.abs(v))))));
  return m;
}

describeShared('losses-v2: scored pairs, distillation, matryoshka', () => {
  let fx: V2Fixture;
  beforeAll(async () => {
    fx = loadLossesV2();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`matches every case's value and gradients within 1e-5 (${backend})`, async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      try {
        expect(tf.getBackend()).toBe(backend);
        expect(CASES.length).toBe(16);
        for (const { id, plugin, options } of CASES) {
          const c = fx.cases.find((x) => x.id === id);
          expect(c, id).toBeDefined();
          const got = run(await make(plugin, options), fx, c!);
          expect(Math.abs(got.value - c!.value) / Math.max(1, Math.abs(c!.value)), `${id} value ${got.value} vs ${c!.value}`).toBeLessThan(1e-5);
          for (const col of c!.columns) expect(maxRelErr(got.grads[col]!, c!.grads[col]!), `${id} d/d${col}`).toBeLessThan(1e-5);
        }
      } finally {
        await tf.setBackend('cpu');
      }
    }, 120_000);
  }
});

describe('scored-pair and distillation losses: options and batches', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('declare sentence-transformers defaults', () => {
    const defaults = (plugin: LossClass, o: Record<string, unknown> = {}) => {
      configAjv({ useDefaults: true }).validate(plugin.schema, o);
      return o;
    };
    expect(defaults(cosent)).toEqual({ scale: 20 });
    expect(defaults(angle)).toEqual({ scale: 20 });
    expect(defaults(cosineSimilarity)).toEqual({});
    expect(defaults(marginMse)).toEqual({});
    expect(defaults(distillKlDiv)).toEqual({ temperature: 1 });
    // The inner loss's options stay as written (its defaults are filled when it is built).
    expect(defaults(matryoshka, { loss: { type: 'cosent' }, dims: [8] })).toEqual({ loss: { type: 'cosent' }, dims: [8] });
    expect([cosent.needs, angle.needs, cosineSimilarity.needs, marginMse.needs, distillKlDiv.needs]).toEqual(['pairs', 'pairs', 'pairs', 'triplets', 'triplets']);
  });

  it('cosent without scores names what is missing', async () => {
    const loss = await make(cosent, {});
    const b = { anchor: tf.tensor2d([[1, 0]]), positive: tf.tensor2d([[0, 1]]) };
    expect(() => loss.compute(b)).toThrow('loss cosent needs a score on every example of the batch (batch.scores): give each pair a `score`');
    tf.dispose(Object.values(b));
  });

  it('margin-mse refuses teacher values that fit neither margins nor scores', async () => {
    const loss = await make(marginMse, {});
    const b = { anchor: tf.tensor2d([[1, 0]]), positive: tf.tensor2d([[0, 1]]), negatives: [tf.tensor2d([[1, 1]])], teacher: tf.tensor2d([[1, 2, 3]]) };
    expect(() => loss.compute(b)).toThrow(
      'loss margin-mse: each example has 3 teacher value(s) but the batch has 1 negative(s): give 1 margin(s) or 2 scores [positive, negatives…]',
    );
    tf.dispose([b.anchor, b.positive, b.negatives[0]!, b.teacher]);
  });

  it('matryoshka takes the inner loss\'s shape and GradCache chunk size, and refuses dims over the embedding dimension', async () => {
    const loss = await make(matryoshka, { loss: { type: 'margin-mse' }, dims: [4, 2] });
    expect(loss.needs).toBe('triplets');
    const cached = (await make(matryoshka, { loss: { type: 'cached-multiple-negatives-ranking', mini_batch_size: 2 }, dims: [4] })) as LossPlugin & { miniBatchSize?: number };
    expect(cached.miniBatchSize).toBe(2);
    expect(((await make(matryoshka, { loss: { type: 'multiple-negatives-ranking' }, dims: [4] })) as LossPlugin & { miniBatchSize?: number }).miniBatchSize).toBeUndefined();
    const wide = await make(matryoshka, { loss: { type: 'cosent' }, dims: [4] });
    const b = { anchor: tf.tensor2d([[1, 0]]), positive: tf.tensor2d([[0, 1]]), scores: tf.tensor1d([1]) };
    expect(() => wide.compute(b)).toThrow('loss matryoshka: dims has 4, more than the embedding dimension 2');
    tf.dispose(Object.values(b));
  });

  it('angle refuses an odd embedding dimension when validation knows it', () => {
    const ctx = (dim?: number) => ({ resolvePath: (p: string) => p, sampleRecord: () => undefined, modelDim: () => dim });
    expect(angle.check!({ scale: 20 }, ctx(64))).toEqual([]);
    expect(angle.check!({ scale: 20 }, ctx())).toEqual([]);
    expect(angle.check!({ scale: 20 }, ctx(63))).toEqual([
      { path: [], message: "angle splits each embedding into real and imaginary halves, so it needs an even embedding dimension, not 63. Use cosent (the same ranking on cosine similarity)" },
    ]);
  });

  it('matryoshka around angle refuses an odd dimension among dims', () => {
    const ctx = { resolvePath: (p: string) => p, sampleRecord: () => undefined, modelDim: () => 64 };
    expect(matryoshka.check!({ loss: { type: 'angle' }, dims: [64, 32] }, ctx)).toEqual([]);
    expect(matryoshka.check!({ loss: { type: 'angle' }, dims: [64, 33, 15] }, ctx)).toEqual([
      { path: ['loss'], message: "angle splits each embedding into real and imaginary halves, so it needs an even embedding dimension, not 33. Use cosent (the same ranking on cosine similarity)" },
      { path: ['loss'], message: "angle splits each embedding into real and imaginary halves, so it needs an even embedding dimension, not 15. Use cosent (the same ranking on cosine similarity)" },
    ]);
  });

  it('matryoshka checks one weight per dimension', () => {
    const problems = matryoshka.check!({ loss: { type: 'cosent', scale: 20 }, dims: [8, 4], weights: [1] }, {} as never);
    expect(problems).toEqual([{ path: ['weights'], message: 'has 1 weight(s) but dims has 2: give one weight per dimension (or leave weights out for all 1)' }]);
  });
});
