import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipGradNorm, globalNorm } from '../../../engine/train/clip.js';

describe('gradient clipping (clip_grad_norm_)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('returns the pre-clip global norm and scales by max_norm / (norm + 1e-6)', () => {
    const grads = { a: tf.tensor([3, 0]), b: tf.tensor([[0, 4], [0, 12]]) }; // norms 3 and √160; total 13
    const { grads: out, totalNorm, coef } = clipGradNorm(grads, 1);
    expect(totalNorm).toBeCloseTo(13, 5);
    expect(coef).toBeCloseTo(1 / (13 + 1e-6), 7);
    expect(Array.from(out['a']!.dataSync())[0]).toBeCloseTo(3 / 13, 6);
    expect(globalNorm(out)).toBeCloseTo(1, 5);
    expect(Array.from(grads.a.dataSync())).toEqual([3, 0]); // inputs untouched
    tf.dispose([...Object.values(grads), ...Object.values(out)]);
  });

  it('leaves gradients under the limit unchanged (coefficient clamped at 1)', () => {
    const grads = { a: tf.tensor([0.3, 0.4]) };
    const { grads: out, totalNorm, coef } = clipGradNorm(grads, 1);
    expect(totalNorm).toBeCloseTo(0.5, 6);
    expect(coef).toBe(1);
    expect(Array.from(out['a']!.dataSync())).toEqual(Array.from(grads.a.dataSync()));
    tf.dispose([grads.a, out['a']!]);
  });

  it('supports the inf norm and reports non-finite norms', () => {
    const g = { a: tf.tensor([1, -7]), b: tf.tensor([2]) };
    expect(globalNorm(g, 'inf')).toBe(7);
    expect(clipGradNorm(g, 3.5, 'inf').coef).toBeCloseTo(0.5, 6);
    const bad = { a: tf.tensor([NaN, 1]) };
    expect(Number.isNaN(globalNorm(bad))).toBe(true);
    expect(globalNorm({})).toBe(0);
    tf.dispose([g.a, g.b, bad.a]);
  });
});
