import { describe, expect, it } from 'vitest';
import { poolAndNormalize } from '../../../engine/model/pooling.js';

// batch 2, seq 3, dim 2; the second row has one padding position
const hidden = new Float32Array([
  1, 2, 3, 4, 5, -6, // row 0: tokens (1,2) (3,4) (5,-6)
  -1, 0, 2, 8, 100, 100, // row 1: tokens (-1,0) (2,8) pad(100,100)
]);
const mask = [[1, 1, 1], [1, 1, 0]];
const arr = (v: Float32Array[]) => v.map((x) => Array.from(x));

describe('poolAndNormalize', () => {
  it('cls takes token 0', () => {
    expect(arr(poolAndNormalize(hidden, mask, 2, 3, 2, 'cls', false))).toEqual([[1, 2], [-1, 0]]);
  });
  it('mean averages attended tokens only', () => {
    expect(arr(poolAndNormalize(hidden, mask, 2, 3, 2, 'mean', false))).toEqual([[3, 0], [0.5, 4]]);
  });
  it('max ignores padding', () => {
    expect(arr(poolAndNormalize(hidden, mask, 2, 3, 2, 'max', false))).toEqual([[5, 4], [2, 8]]);
  });
  it('normalize gives unit vectors; a zero vector stays zero', () => {
    const [a] = poolAndNormalize(new Float32Array([3, 4]), [[1]], 1, 1, 2, 'cls', true);
    expect(Array.from(a!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    const [z] = poolAndNormalize(new Float32Array([0, 0]), [[0]], 1, 1, 2, 'mean', true);
    expect(Array.from(z!)).toEqual([0, 0]);
  });
  it('rejects a hidden state of the wrong size', () => {
    expect(() => poolAndNormalize(hidden, mask, 2, 3, 3, 'cls', false)).toThrow(/expected 2×3×3/);
  });
});
