/**
 * The loss seam (core/train/seam.ts) and batch assembly (core/train/columns.ts):
 * - columns by shape, n negatives, per-example values;
 * - a column the loss does not read gets a zero gradient (no "Cannot compute gradient" error);
 * - on both engines (tiny-bert fixture, dropout 0): a custom loss that ignores the negative
 *   columns trains, and both engines give it the same gradients; GradCache (mini_batch_size)
 *   gives the loss and every weight gradient of the plain step.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lossColumns } from '../../core/train/columns.js';
import { cosSim, type LossBatch, type LossPlugin } from '../../core/train/loss.js';
import { loadModelLayout } from '../../engine/model/layout.js';
import { AdamW } from '../../engine/train/optim.js';
import { LossSeam, lossGradients } from '../../core/train/seam.js';
import type { Example } from '../../core/types.js';
import { OrtBertEngine } from '../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep, prepareHostLoss } from '../../plugins/backend/ort/train-step.js';
import { TfjsSentenceModel } from '../../plugins/backend/tfjs/sentence.js';
import { TrainStep } from '../../plugins/backend/tfjs/train-step.js';
import { describeShared, TINY_BERT, transactionsWithTwoNegatives } from '../helpers/shared.js';

describe('lossColumns', () => {
  const items: Example[] = [
    { anchor: 'a1', positive: 'p1', negative: 'n1', label: 'x', pairLabel: 1 },
    { anchor: 'a2', positive: 'p2', negative: 'n2', label: 'y', pairLabel: 0 },
    { anchor: 'a3', positive: 'p3', negative: 'n3', label: 'x', pairLabel: 1 },
  ];
  const texts = (needs: Parameters<typeof lossColumns>[0], xs: Example[], ids?: Map<string, number>) => {
    const c = lossColumns(needs, xs, ids);
    return { columns: c.columns.map((k) => `${k.role}/${k.kind}:${k.texts.join(',')}`), values: c.values };
  };

  it('reads each example shape: anchors as queries, the other columns as documents', () => {
    const ids = new Map<string, number>();
    expect(texts('labelled', items, ids)).toEqual({ columns: ['anchor/query:a1,a2,a3'], values: { labels: [0, 1, 0] } });
    expect(ids).toEqual(new Map([['x', 0], ['y', 1]]));
    expect(texts('triplets', items).columns).toEqual(['anchor/query:a1,a2,a3', 'positive/document:p1,p2,p3', 'negative/document:n1,n2,n3']);
    expect(texts('pairs', items).columns).toEqual(['anchor/query:a1,a2,a3', 'positive/document:p1,p2,p3', 'negative/document:n1,n2,n3']);
    expect(texts('pairs', [{ anchor: 'a', positive: 'p' }]).columns).toEqual(['anchor/query:a', 'positive/document:p']);
    // labelled pairs: label 1 → (anchor, positive), 0 → (anchor, negative)
    expect(texts('labelled-pairs', items)).toEqual({ columns: ['anchor/query:a1,a2,a3', 'positive/document:p1,n2,p3'], values: { pairLabels: [1, 0, 1] } });
    expect(texts('labelled-pairs', [{ anchor: 'a', positive: 'b', pairLabel: 0 }]).columns[1]).toBe('positive/document:b');
  });

  it('n negatives: as many columns as every example of the batch has, `negatives` over `negative`', () => {
    const xs: Example[] = [
      { anchor: 'a1', positive: 'p1', negatives: ['n11', 'n12', 'n13'], negative: 'ignored' },
      { anchor: 'a2', positive: 'p2', negatives: ['n21', 'n22'] },
    ];
    expect(texts('triplets', xs).columns).toEqual(['anchor/query:a1,a2', 'positive/document:p1,p2', 'negative/document:n11,n21', 'negative/document:n12,n22']);
    expect(texts('pairs', [...xs, { anchor: 'a3', positive: 'p3' }]).columns).toHaveLength(2);
  });

  it('scores and teacher values when every example has them', () => {
    const xs: Example[] = [
      { anchor: 'a1', positive: 'p1', score: 0.5, teacher: [1, 2] },
      { anchor: 'a2', positive: 'p2', score: 0, teacher: [3, 4] },
    ];
    expect(lossColumns('pairs', xs).values).toEqual({ scores: [0.5, 0], teacher: [[1, 2], [3, 4]] });
    expect(lossColumns('pairs', [xs[0]!, { anchor: 'a', positive: 'p' }]).values).toEqual({});
  });

  it('names what an example lacks', () => {
    expect(() => lossColumns('labelled', [{ anchor: 'a' }])).toThrow(/example 0 has no label/);
    expect(() => lossColumns('triplets', [{ anchor: 'a', positive: 'p' }])).toThrow(/example 0 has no negative/);
    expect(() => lossColumns('triplets', [{ anchor: 'a', positive: 'p', negatives: [] }])).toThrow(/example 0 has no negative/);
    expect(() => lossColumns('labelled-pairs', [{ anchor: 'a', positive: 'p' }])).toThrow(/pairLabel/);
  });
});

/** (CE(anchor → positive) + CE(positive → anchor)) / 2 over scaled cosine similarities: reads anchor and positive only. */
const symmetric: LossPlugin = {
  needs: 'pairs',
  compute(b: LossBatch): tf.Scalar {
    const s = tf.mul(cosSim(b.anchor, b.positive!), 20) as tf.Tensor2D;
    const eye = tf.oneHot(tf.range(0, s.shape[0], 1, 'int32'), s.shape[0]);
    const ce = (m: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(eye, m);
    return tf.div(tf.add(ce(s), ce(tf.transpose(s) as tf.Tensor2D)), 2) as tf.Scalar;
  },
};

/** Multiple-negatives ranking over [positives; every negative column]: reads every column. */
const mnrlAll: LossPlugin = {
  needs: 'triplets',
  compute(b: LossBatch): tf.Scalar {
    const cands = tf.concat([b.positive!, ...(b.negatives ?? [])], 0) as tf.Tensor2D;
    const s = tf.mul(cosSim(b.anchor, cands), 20) as tf.Tensor2D;
    const n = b.anchor.shape[0];
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.range(0, n, 1, 'int32'), s.shape[1]), s) as tf.Scalar;
  },
};

describe('lossGradients', () => {
  it('a column the loss does not read gets a zero gradient; the others get the loss\'s gradient', () => {
    const rows = 3;
    const dim = 4;
    const col = (k: number) => Float32Array.from({ length: rows * dim }, (_, i) => Math.sin(k * 10 + i));
    const r = lossGradients(symmetric, ['anchor', 'positive', 'negative'], [col(1), col(2), col(3)], rows, {});
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.grads).toHaveLength(3);
    expect(Math.max(...r.grads[0]!.map(Math.abs))).toBeGreaterThan(1e-4);
    expect(Math.max(...r.grads[1]!.map(Math.abs))).toBeGreaterThan(1e-4);
    expect([...r.grads[2]!]).toEqual(new Array(rows * dim).fill(0));
    // scale multiplies the gradient, not the reported value
    const half = lossGradients(symmetric, ['anchor', 'positive', 'negative'], [col(1), col(2), col(3)], rows, {}, 0.5);
    expect(half.loss).toBeCloseTo(r.loss, 6);
    expect(half.grads[0]![0]!).toBeCloseTo(r.grads[0]![0]! / 2, 7);
  });

  it('an error inside a loss says on what batch it happened', () => {
    const bad: LossPlugin = { needs: 'pairs', compute: () => { throw new Error('depth must be >=2'); } };
    expect(() => lossGradients(bad, ['anchor', 'positive'], [new Float32Array(4), new Float32Array(4)], 1, {})).toThrow(
      /the loss's compute\(\) failed on a batch of 1 example \(columns: anchor, positive\): depth must be >=2/,
    );
  });

  it('a loss that does not return a scalar is named', () => {
    const bad: LossPlugin = { needs: 'pairs', compute: (b) => tf.sum(b.anchor, 1) as unknown as tf.Scalar };
    expect(() => lossGradients(bad, ['anchor', 'positive'], [new Float32Array(4), new Float32Array(4)], 2, {})).toThrow(/tensor of shape \[2\].*must return a scalar/);
  });
});


/**
 * The worst relative difference over every weight: max |a − b| / max |a| per weight. The
 * attention key biases are the exception: softmax is invariant to them, so their gradient is zero
 * and what the engines compute is rounding noise (≈ 1e-8 of the largest gradient): both must be
 * that small. Any other weight whose gradient is below 1e-4 of the largest is measured against that.
 */
function worstRelative(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  let top = 0;
  for (const g of a.values()) for (const v of g) top = Math.max(top, Math.abs(v));
  expect(top).toBeGreaterThan(0);
  let worst = 0;
  for (const [k, g] of a) {
    const h = b.get(k)!;
    let diff = 0;
    let scale = 0;
    let other = 0;
    for (let i = 0; i < g.length; i++) {
      diff = Math.max(diff, Math.abs(g[i]! - h[i]!));
      scale = Math.max(scale, Math.abs(g[i]!));
      other = Math.max(other, Math.abs(h[i]!));
    }
    if (k.endsWith('attention.self.key.bias')) {
      expect(Math.max(scale, other) / top, k).toBeLessThan(1e-6);
      continue;
    }
    worst = Math.max(worst, diff / Math.max(scale, 1e-4 * top));
  }
  return worst;
}

describeShared('the loss seam on both engines (tiny-bert)', () => {
  const layout = () => loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' });
  let engine: OrtBertEngine;
  let model: TfjsSentenceModel;
  let items: Example[];
  beforeAll(async () => {
    await prepareHostLoss();
    engine = await OrtBertEngine.load(layout(), { threads: 1, executionProviders: ['cpu'] });
    model = TfjsSentenceModel.load(layout());
    items = transactionsWithTwoNegatives();
  });
  afterAll(async () => {
    await engine.dispose();
    model.dispose();
  });

  const ort = async (loss: LossPlugin, mini: number) => {
    const step = new OrtTrainStep(engine, new LossSeam(loss, [], mini), { weightDecay: 0 });
    const r = await step.gradients([items], [7]);
    const grads = new Map([...r.grads].map(([k, g]) => [k, Float32Array.from(g)]));
    step.clearTables(r.touched, r.positions);
    return { loss: r.loss, grads };
  };
  const tfjs = async (loss: LossPlugin, mini: number) => {
    const opt = new AdamW(model.trainableVariables, { lr: 1e-3 });
    const step = new TrainStep(model, new LossSeam(loss, [], mini), opt);
    const r = await step.lossAndGrads(items, 1, 7);
    const names = new Map([...model.bert.weights].map(([file, v]) => [v.name, file]));
    const grads = new Map(Object.entries(r.grads).map(([k, g]) => [names.get(k)!, Float32Array.from(g.dataSync() as Float32Array)]));
    tf.dispose(Object.values(r.grads));
    opt.dispose();
    return { loss: r.loss, grads };
  };

  it('a loss that ignores the negative columns trains on ort and tfjs, to the same gradients', async () => {
    const a = await ort(symmetric, 0);
    const b = await tfjs(symmetric, 0);
    expect(Number.isFinite(a.loss)).toBe(true);
    expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThan(1e-5);
    // tfjs trains every weight but the unused pooler, like ort: compare what both have
    const shared = new Map([...a.grads].filter(([k]) => b.grads.has(k)));
    expect(shared.size).toBeGreaterThan(10);
    expect(worstRelative(shared, new Map([...b.grads].filter(([k]) => shared.has(k))))).toBeLessThan(1e-4);
  });

  for (const [name, loss] of [['multiple negatives ranking over 2 negatives', mnrlAll], ['symmetric (ignores negatives)', symmetric]] as const) {
    it(`GradCache (mini_batch_size 3 of 10) equals the plain step on ort: ${name}`, async () => {
      const plain = await ort(loss, 0);
      const cached = await ort(loss, 3);
      expect(Math.abs(cached.loss - plain.loss) / plain.loss).toBeLessThan(1e-5);
      expect(worstRelative(plain.grads, cached.grads)).toBeLessThan(1e-5);
      // not vacuous: another batch gives other gradients
      const other = await (async () => {
        const keep = items;
        items = items.slice(1).concat(items.slice(0, 1)).map((e, i) => (i === 0 ? { ...e, anchor: e.anchor + ' x' } : e));
        try {
          return await ort(loss, 3);
        } finally {
          items = keep;
        }
      })();
      expect(worstRelative(plain.grads, other.grads)).toBeGreaterThan(1e-3);
    });

    it(`GradCache (mini_batch_size 3 of 10) equals the plain step on tfjs: ${name}`, async () => {
      const plain = await tfjs(loss, 0);
      const cached = await tfjs(loss, 3);
      expect(Math.abs(cached.loss - plain.loss) / plain.loss).toBeLessThan(1e-5);
      expect(worstRelative(plain.grads, cached.grads)).toBeLessThan(1e-5);
    });
  }
});
