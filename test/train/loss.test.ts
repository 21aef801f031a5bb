import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  greaterMask,
  pairwiseDistance,
  reduceMax,
  reduceMin,
} from '../../core/train/loss.js';

describe.each(['cpu', 'wasm'])('loss helpers on %s', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reduceMax/reduceMin send the gradient to the first extreme only (torch max(dim)/min(dim))', () => {
    const x = tf.tensor2d([
      [1, 3, 3, 0],
      [2, 2, 5, 2],
    ]);
    const gMax = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reduceMax(t), tf.tensor2d([[1], [2]]))))(x);
    expect(gMax.arraySync()).toEqual([
      [0, 1, 0, 0],
      [0, 0, 2, 0],
    ]);
    const gMin = tf.grad((t: tf.Tensor) => tf.sum(reduceMin(t)))(x);
    expect(gMin.arraySync()).toEqual([
      [0, 0, 0, 1],
      [1, 0, 0, 0],
    ]);
    expect(reduceMax(tf.ones([2, 3, 4])).shape).toEqual([2, 3, 1]);
    tf.dispose([x, gMax, gMin]);
  });

  it('greaterMask is a 0/1 mask with a zero gradient', () => {
    const a = tf.tensor1d([1, 2, 3]);
    expect(Array.from(greaterMask(a, 2).dataSync())).toEqual([0, 0, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(greaterMask(t, 1.5), t)))(a);
    expect(Array.from(g.dataSync())).toEqual([0, 1, 1]);
    tf.dispose([a, g]);
  });

  it('euclidean distances are exact on the diagonal and for duplicates, with finite gradients', () => {
    const e = tf.tensor2d([
      [0.6, 0.8],
      [0.6, 0.8],
      [1, 0],
    ]);
    const d = pairwiseDistance(e, 'euclidean').arraySync();
    expect(d[0]![0]).toBe(0);
    expect(d[0]![1]).toBe(0);
    expect(d[0]![2]).toBeCloseTo(Math.hypot(0.4, 0.8), 6);
    expect(pairwiseDistance(e, 'squared_euclidean').arraySync()[0]![2]).toBeCloseTo(0.8, 6);
    expect(pairwiseDistance(e, 'cosine').arraySync()[0]![2]).toBeCloseTo(0.4, 6);
    const g = tf.grad((t: tf.Tensor) => tf.sum(pairwiseDistance(t as tf.Tensor2D, 'euclidean')))(e);
    for (const v of g.dataSync()) expect(Number.isFinite(v)).toBe(true);
    tf.dispose([e, g]);
  });
});
