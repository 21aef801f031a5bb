/**
 * Differentiable building blocks of the BERT encoder with hand-written gradients
 * (tf.customGrad), shaped for tfjs-backend-wasm, where:
 *  - matMul with transposeA/transposeB flags, and any batched matMul, run a naive scalar loop
 *    (10–15× slower than XNNPACK): dense layers transpose explicitly, and batched matMuls use
 *    a depthwise convolution (XNNPACK grouped GEMM) — see `bmm`;
 *  - the stock gradient of `gather` needs UnsortedSegmentSum, missing on wasm: the embedding
 *    lookup's gradient is a dense scatter-add (ScatterNd sums duplicate indices), so rows of
 *    tokens absent from a batch get an exact zero gradient, as in torch.
 * When onnxruntime GEMM is enabled (ort-gemm.ts), dense layers and batched products run there.
 * Each gradient equals tfjs's stock gradient (checked in test/plugins/backend/tfjs/ops.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { mixSeed, mulberry32 } from '../../../core/rng.js';
import { gemm, ortGemmActive } from './ort-gemm.js';

const isWasm = (): boolean => tf.getBackend() === 'wasm';

/** y = x·Wᵀ + b, with W in torch's Linear layout [out, in]; x is [n, in]. */
export const dense = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([x, w]);
  const ort = ortGemmActive();
  const value = ort ? gemm(x, w, false, true, b) : tf.fused.matMul({ a: x, b: tf.transpose(w), bias: b });
  const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
    const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
    if (ort) return [gemm(dy, sw), gemm(dy, sx, true, false), tf.sum(dy, 0)];
    return [tf.matMul(dy, sw), tf.matMul(tf.transpose(dy), sx), tf.sum(dy, 0)];
  };
  return { value, gradFunc };
}) as any) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * Rows of `table` [rows, dim] at `ids` (int32, any shape) → [...ids.shape, dim]. The gradient
 * w.r.t. the table is dense: scatter-add of the incoming rows.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const flat = tf.reshape(ids, [-1]) as tf.Tensor1D;
  // Tensors used by a gradFunc must go through save(): closures may see them disposed.
  const f = tf.customGrad(((t: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([tf.reshape(flat, [-1, 1])]);
    const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.scatterND(saved[0]!, dy, t.shape);
    return { value: tf.gather(t, flat), gradFunc };
  }) as any) as (t: tf.Tensor2D) => tf.Tensor2D;
  return tf.reshape(f(table), [...ids.shape, table.shape[1]]);
}

/** LayerNorm over the last axis (biased variance, as torch). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor1D, bt: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const axis = xi.rank - 1;
    const xc = tf.sub(xi, tf.mean(xi, axis, true));
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), axis, true), eps));
    const xhat = tf.mul(xc, rstd);
    save([xhat, rstd, g]);
    const value = tf.add(tf.mul(xhat, g), bt);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor1D];
      const gy = tf.mul(dy, sg);
      const inner = tf.sub(tf.sub(gy, tf.mean(gy, axis, true)), tf.mul(sxhat, tf.mean(tf.mul(gy, sxhat), axis, true)));
      const lead = Array.from({ length: axis }, (_, i) => i);
      return [tf.mul(srstd, inner), tf.sum(tf.mul(dy, sxhat), lead), tf.sum(dy, lead)];
    };
    return { value, gradFunc };
  }) as any) as (a: tf.Tensor, b: tf.Tensor1D, c: tf.Tensor1D) => tf.Tensor;
  return f(x, gamma, beta);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** GELU with the exact erf form: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
export const gelu = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const cdf = tf.add(0.5, tf.mul(0.5, tf.erf(tf.mul(x, SQRT1_2))));
  save([x, cdf]);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sx, scdf] = saved as [tf.Tensor, tf.Tensor];
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(sx), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(scdf, tf.mul(sx, pdf)));
  };
  return { value: tf.mul(x, cdf), gradFunc };
}) as any) as (x: tf.Tensor) => tf.Tensor;

/**
 * Batched matMul without transposes: a [g, m, k] · b [g, k, n] → [g, m, n]. On wasm it runs as
 * a depthwise convolution (channels = g, input [1, m, k, g], filter [1, k, g, n]), which XNNPACK
 * computes as a grouped GEMM, about 2.5× faster than wasm's BatchMatMul for attention shapes.
 */
export function bmmForward(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (!isWasm()) return tf.matMul(a, b);
  const [g, m, k] = a.shape;
  const n = b.shape[2];
  const x = tf.reshape(tf.transpose(a, [1, 2, 0]), [1, m, k, g]) as tf.Tensor4D;
  const f = tf.reshape(tf.transpose(b, [1, 0, 2]), [1, k, g, n]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(x, f, 1, 'valid'); // [1, m, 1, g·n]
  return tf.transpose(tf.reshape(out, [m, g, n]), [1, 0, 2]);
}

const swap = (t: tf.Tensor3D): tf.Tensor3D => tf.transpose(t, [0, 2, 1]);

/** op(a)·op(b) for batched 3-D operands, op = transpose where the flag is set. */
function product(a: tf.Tensor3D, b: tf.Tensor3D, ta: boolean, tb: boolean): tf.Tensor3D {
  if (ortGemmActive()) return gemm(a, b, ta, tb) as tf.Tensor3D;
  if (!isWasm()) return tf.matMul(a, b, ta, tb);
  return bmmForward(ta ? swap(a) : a, tb ? swap(b) : b);
}

/**
 * Differentiable batched matMul op(a)·op(b) (transposeA with transposeB is not supported). The
 * transposes are explicit on wasm, folded into the product on onnxruntime and other backends.
 */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, transA = false, transB = false): tf.Tensor3D {
  if (transA && transB) throw new Error('bmm: transposing both operands is not supported');
  const f = tf.customGrad(((x: tf.Tensor3D, y: tf.Tensor3D, save: tf.GradSaveFunc) => {
    save([x, y]);
    const gradFunc = (dc: tf.Tensor3D, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      if (transA) return [product(sb, dc, false, true), product(sa, dc, false, false)]; // C = Aᵀ·B
      if (transB) return [product(dc, sb, false, false), product(dc, sa, true, false)]; // C = A·Bᵀ
      return [product(dc, sb, false, true), product(sa, dc, true, false)];
    };
    return { value: product(x, y, transA, transB), gradFunc };
  }) as any) as (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor3D;
  return f(a, b);
}

/**
 * Inverted dropout with a fixed seed (identity when rate is 0). The keep-mask (0 or 1/(1−rate))
 * is drawn on the host with mulberry32: one tensor upload instead of tfjs's four random ops.
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (rate <= 0) return x;
  const next = mulberry32(mixSeed(seed));
  const keep = new Float32Array(x.size);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < keep.length; i++) keep[i] = next() >= rate ? scale : 0;
  return tf.mul(x, tf.tensor(keep, x.shape, 'float32'));
}
