import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { adapterShapes, checkAdapterWeights, erf, initAdapter, l2Normalize, mapVector, mapVectors, TfAdapter, type AdapterWeights } from '../../../engine/adapter/model.js';
import { Rng } from '../../../core/rng.js';

const rows = (n: number, dim: number, seed = 1): Float32Array[] => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => rng.normal()));
};

/** Random weights of a kind (not the identity), so forward passes do something. */
function randomWeights(kind: 'linear' | 'mlp', dim: number, hidden: number, seed = 7): AdapterWeights {
  const w = initAdapter(kind, dim, hidden, seed);
  const rng = new Rng(seed + 1);
  for (const t of w.tensors.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + 0.3 * rng.normal();
  return w;
}

describe('adapter model', () => {
  it('a fresh linear adapter is the identity, exactly', () => {
    const w = initAdapter('linear', 16, 0, 3);
    for (const x of rows(5, 16)) expect(mapVector(w, x)).toEqual(x);
    expect([...w.tensors.keys()]).toEqual(['linear.weight', 'linear.bias']);
  });

  it('a fresh mlp adapter is the identity, exactly (output layer at zero), with a seeded hidden layer', () => {
    const w = initAdapter('mlp', 16, 32, 3);
    for (const x of rows(5, 16)) expect(mapVector(w, x)).toEqual(x);
    expect(w.tensors.get('fc1.weight')!.data.some((v) => v !== 0)).toBe(true);
    expect(w.tensors.get('fc2.weight')!.data.every((v) => v === 0)).toBe(true);
    expect(initAdapter('mlp', 16, 32, 3).tensors.get('fc1.weight')!.data).toEqual(w.tensors.get('fc1.weight')!.data);
    expect(initAdapter('mlp', 16, 32, 4).tensors.get('fc1.weight')!.data).not.toEqual(w.tensors.get('fc1.weight')!.data);
  });

  it('the tfjs forward pass at initialisation returns its input exactly', () => {
    for (const kind of ['linear', 'mlp'] as const) {
      const m = new TfAdapter(initAdapter(kind, 8, 12, 1));
      const xs = rows(4, 8);
      const y = tf.tidy(() => m.apply(tf.tensor2d(Float32Array.from(xs.flatMap((r) => [...r])), [4, 8])).dataSync());
      expect(Float32Array.from(y)).toEqual(Float32Array.from(xs.flatMap((r) => [...r])));
      m.dispose();
    }
  });

  it('tfjs and the JS forward pass compute the same map', () => {
    for (const kind of ['linear', 'mlp'] as const) {
      const w = randomWeights(kind, 8, 12);
      const m = new TfAdapter(w);
      const xs = rows(6, 8, 5);
      const y = tf.tidy(() => m.apply(tf.tensor2d(Float32Array.from(xs.flatMap((r) => [...r])), [6, 8])).arraySync());
      xs.forEach((x, i) => {
        const js = mapVector(w, x);
        js.forEach((v, j) => expect(Math.abs(v - y[i]![j]!)).toBeLessThan(1e-5));
      });
      // and the map is not the identity
      expect(mapVector(w, xs[0]!)).not.toEqual(xs[0]);
      m.dispose();
    }
  });

  it('snapshot and load round-trip the weights exactly, without leaking tensors', () => {
    const before = tf.memory().numTensors;
    const m = new TfAdapter(initAdapter('mlp', 8, 4, 1));
    const w = randomWeights('mlp', 8, 4, 9);
    m.load(w);
    const s = m.snapshot();
    for (const [name, t] of w.tensors) expect(s.tensors.get(name)!.data).toEqual(t.data);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('mapVectors normalises; l2Normalize leaves a zero vector finite', () => {
    const w = randomWeights('linear', 8, 0);
    for (const v of mapVectors(w, rows(3, 8))) expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect([...l2Normalize(new Float32Array(4))]).toEqual([0, 0, 0, 0]);
  });

  it('erf matches the reference values within 2e-7', () => {
    const ref: Array<[number, number]> = [[0, 0], [0.5, 0.5204998778], [1, 0.8427007929], [-1.5, -0.9661051465], [3, 0.9999779095]];
    for (const [x, y] of ref) expect(Math.abs(erf(x) - y)).toBeLessThan(2e-7);
  });

  it('rejects weights of the wrong shape and dimension mismatches', () => {
    const w = initAdapter('linear', 4, 0, 1);
    w.tensors.set('linear.bias', { shape: [3], data: new Float32Array(3) });
    expect(() => checkAdapterWeights(w, 'x')).toThrow(/linear.bias has shape \[3\], expected \[4\]/);
    expect(() => mapVector(initAdapter('linear', 4, 0, 1), new Float32Array(5))).toThrow(/4-d/);
    expect(adapterShapes('mlp', 4, 6)).toEqual([['fc1.weight', [6, 4]], ['fc1.bias', [6]], ['fc2.weight', [4, 6]], ['fc2.bias', [4]]]);
  });
});
