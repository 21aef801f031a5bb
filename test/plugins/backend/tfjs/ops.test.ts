import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableOrtGemm, enableOrtGemm, gemm, ortGemmActive } from '../../../../plugins/backend/tfjs/ort-gemm.js';
import { bmm, dense, embeddingLookup, gelu, layerNorm } from '../../../../plugins/backend/tfjs/ops.js';

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** Gradients of sum(f(...xs) · r) for a fixed random upstream r. */
function gradsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], seed: number): tf.Tensor[] {
  return tf.grads((...args: tf.Tensor[]) => {
    const y = f(...args);
    return tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, 'float32', seed)));
  })(xs);
}

function expectSameGrads(custom: (...xs: tf.Tensor[]) => tf.Tensor, stock: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], tol = 1e-5): void {
  tf.tidy(() => {
    expect(maxDiff(custom(...xs), stock(...xs))).toBeLessThan(tol);
    const a = gradsOf(custom, xs, 11);
    const b = gradsOf(stock, xs, 11);
    a.forEach((g, i) => {
      expect(g.shape).toEqual(b[i]!.shape);
      expect(maxDiff(g, b[i]!)).toBeLessThan(tol);
    });
  });
}

const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe('custom gradients equal the stock ones (cpu backend)', () => {
  beforeAll(async () => {
    tf.enableProdMode(); // silences tfjs's "install tfjs-node" banner
    await tf.setBackend('cpu');
  });

  it('dense: x·Wᵀ + b with W in [out, in] layout', () => {
    expectSameGrads(
      (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b!),
      [rnd([7, 5], 1), rnd([3, 5], 2), rnd([3], 3)],
    );
  });

  it('embedding lookup: dense scatter-add gradient with repeated and absent ids', () => {
    const ids = tf.tensor2d([[1, 4, 4], [0, 1, 4]], [2, 3], 'int32');
    expectSameGrads((t) => embeddingLookup(t as tf.Tensor2D, ids), (t) => tf.reshape(tf.gather(t!, tf.reshape(ids, [-1])), [2, 3, 4]), [rnd([6, 4], 4)]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(embeddingLookup(t as tf.Tensor2D, ids)))(rnd([6, 4], 4));
    expect(g.shape).toEqual([6, 4]);
    expect(Array.from(g.dataSync().slice(2 * 4, 4 * 4))).toEqual(new Array(8).fill(0)); // rows 2, 3 absent
    expect(Array.from(g.dataSync().slice(4 * 4, 5 * 4))).toEqual([3, 3, 3, 3]); // row 4 used three times
  });

  it('layerNorm over the last axis', () => {
    const stock = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-12))), g), b);
    };
    expectSameGrads(
      (x, g, b) => layerNorm(x!, g as tf.Tensor1D, b as tf.Tensor1D, 1e-12),
      (x, g, b) => stock(x!, g!, b!),
      [rnd([6, 8], 5), rnd([8], 6), rnd([8], 7)],
    );
  });

  it('gelu (exact erf form)', () => {
    expectSameGrads((x) => gelu(x!), (x) => tf.mul(tf.mul(x!, 0.5), tf.add(1, tf.erf(tf.div(x!, Math.SQRT2)))), [tf.mul(rnd([5, 9], 8), 3)]);
  });

  it('batched matMul, with and without a transposed operand', () => {
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [rnd([6, 5, 4], 9), rnd([6, 4, 7], 10)]);
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D, false, true), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), [rnd([6, 5, 4], 9), rnd([6, 7, 4], 10)]);
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D, true, false), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, true, false), [rnd([6, 4, 5], 9), rnd([6, 4, 7], 10)]);
  });
});

describe('matrix products on onnxruntime (cpu backend)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    expect(enableOrtGemm(1)).toBeUndefined();
  });
  afterAll(() => disableOrtGemm());

  it('gemm matches tf.matMul for every transpose combination, bias and batch', () => {
    expect(ortGemmActive()).toBe(true);
    tf.tidy(() => {
      const [a, b, bias] = [rnd([9, 13], 20), rnd([13, 11], 21), rnd([11], 22)];
      expect(maxDiff(gemm(a, b), tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))).toBeLessThan(1e-5);
      expect(maxDiff(gemm(tf.transpose(a), b, true, false), tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))).toBeLessThan(1e-5);
      expect(maxDiff(gemm(a, tf.transpose(b), false, true, bias as tf.Tensor1D), tf.add(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), bias))).toBeLessThan(1e-5);
      const [x, y] = [rnd([4, 6, 5], 23), rnd([4, 7, 5], 24)];
      expect(gemm(x, y, false, true).shape).toEqual([4, 6, 7]);
      expect(maxDiff(gemm(x, y, false, true), tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, false, true))).toBeLessThan(1e-5);
    });
  });

  it('dense and bmm gradients through onnxruntime equal the stock ones', () => {
    expectSameGrads(
      (x, w, b) => dense(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D),
      (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b!),
      [rnd([7, 5], 1), rnd([3, 5], 2), rnd([3], 3)],
    );
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D, false, true), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), [rnd([6, 5, 4], 9), rnd([6, 7, 4], 10)]);
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [rnd([6, 5, 4], 9), rnd([6, 4, 7], 10)]);
  });
});

describe('batched matMul on wasm (depthwise-convolution path)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the stock batched matMul, values and gradients', () => {
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), [rnd([24, 9, 8], 12), rnd([24, 8, 9], 13)]);
    expectSameGrads((a, b) => bmm(a as tf.Tensor3D, b as tf.Tensor3D, false, true), (a, b) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, false, true), [rnd([24, 9, 8], 12), rnd([24, 9, 8], 13)]);
  });
});
