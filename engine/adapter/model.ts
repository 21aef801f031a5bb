/**
 * The trainable map of adapter fine-tuning, in two forms that compute the same function:
 * - AdapterWeights: plain float32 tensors (torch nn.Linear layout, weight [out, in]) with a pure-JS
 *   forward pass (`mapVectors`), used for inference, evaluation, saving and ONNX export;
 * - TfAdapter: the same weights as tfjs variables, differentiable, used by the trainer.
 *
 * Kinds:
 *   linear  y = W·x + b                             W = I (d×d), b = 0 at initialisation
 *   mlp     y = x + W2·gelu(W1·x + b1) + b2         W1 ~ U(±1/√d) (seeded), b1 = 0, W2 = 0, b2 = 0
 * so a fresh adapter of either kind maps every vector to itself. gelu is the exact (erf) GELU; the
 * JS forward uses the same erf approximation as tfjs (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
 * The L2 normalisation that follows the map is not part of it (see encoder.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.js';
import type { AdapterKind } from '../../core/train/adapter-schema.js';

export interface AdapterTensor {
  shape: number[];
  data: Float32Array;
}

export interface AdapterWeights {
  kind: AdapterKind;
  dim: number;
  /** mlp hidden width (0 for linear). */
  hidden: number;
  tensors: Map<string, AdapterTensor>;
}

/** Parameter names and shapes of an adapter, in a fixed order. */
export function adapterShapes(kind: AdapterKind, dim: number, hidden: number): Array<[string, number[]]> {
  return kind === 'linear'
    ? [['linear.weight', [dim, dim]], ['linear.bias', [dim]]]
    : [['fc1.weight', [hidden, dim]], ['fc1.bias', [hidden]], ['fc2.weight', [dim, hidden]], ['fc2.bias', [dim]]];
}

/** A fresh adapter that maps every vector to itself (mlp: fc1 drawn from `seed`). */
export function initAdapter(kind: AdapterKind, dim: number, hidden: number, seed: number): AdapterWeights {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`adapter: dimension must be a positive integer, got ${dim}`);
  const tensors = new Map<string, AdapterTensor>();
  const rng = new Rng(seed);
  const bound = 1 / Math.sqrt(dim);
  for (const [name, shape] of adapterShapes(kind, dim, kind === 'mlp' ? hidden : 0)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name === 'linear.weight') for (let i = 0; i < dim; i++) data[i * dim + i] = 1;
    if (name === 'fc1.weight') for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
    tensors.set(name, { shape, data });
  }
  return { kind, dim, hidden: kind === 'mlp' ? hidden : 0, tensors };
}

/** Checks that `w` has exactly the tensors its kind needs; throws naming what is wrong. */
export function checkAdapterWeights(w: AdapterWeights, where: string): void {
  const expected = adapterShapes(w.kind, w.dim, w.hidden);
  for (const [name, shape] of expected) {
    const t = w.tensors.get(name);
    if (!t) throw new Error(`${where}: missing adapter tensor ${name}`);
    if (t.shape.join(',') !== shape.join(',') || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      throw new Error(`${where}: adapter tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
  }
  const extra = [...w.tensors.keys()].filter((n) => !expected.some(([e]) => e === n));
  if (extra.length > 0) throw new Error(`${where}: unexpected adapter tensors ${extra.join(', ')}`);
}

const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

/** erf as tfjs computes it (Abramowitz–Stegun 7.1.26). */
export function erf(x: number): number {
  const v = Math.abs(x);
  const t = 1 / (1 + ERF_P * v);
  const poly = ((((ERF_A[4] * t + ERF_A[3]) * t + ERF_A[2]) * t + ERF_A[1]) * t + ERF_A[0]) * t;
  return Math.sign(x) * (1 - poly * Math.exp(-v * v));
}

/** y = W·x + b for W [out, in] row-major (accumulated in float64). */
function affine(w: AdapterTensor, b: AdapterTensor, x: Float32Array): Float64Array {
  const [out, inn] = w.shape as [number, number];
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b.data[o]!;
    const row = o * inn;
    for (let i = 0; i < inn; i++) s += w.data[row + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

/** The adapter applied to one vector (not normalised). */
export function mapVector(w: AdapterWeights, x: Float32Array): Float32Array {
  if (x.length !== w.dim) throw new Error(`adapter expects ${w.dim}-d vectors, got ${x.length}-d`);
  const t = (name: string) => w.tensors.get(name)!;
  if (w.kind === 'linear') return Float32Array.from(affine(t('linear.weight'), t('linear.bias'), x));
  const h = affine(t('fc1.weight'), t('fc1.bias'), x);
  const g = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) g[i] = 0.5 * h[i]! * (1 + erf(h[i]! / Math.SQRT2));
  const y = affine(t('fc2.weight'), t('fc2.bias'), g);
  const out = new Float32Array(w.dim);
  for (let i = 0; i < w.dim; i++) out[i] = x[i]! + y[i]!;
  return out;
}

/** x / max(‖x‖, 1e-12), as sentence-transformers' Normalize. */
export function l2Normalize(x: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  const n = Math.max(Math.sqrt(s), 1e-12);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! / n;
  return out;
}

/** The adapter then L2 normalisation, for a list of vectors. */
export function mapVectors(w: AdapterWeights, xs: Float32Array[]): Float32Array[] {
  return xs.map((x) => l2Normalize(mapVector(w, x)));
}

/** The adapter as tfjs variables (names `adapter/<tensor>`), differentiable. */
export class TfAdapter {
  readonly variables: tf.Variable[];
  private readonly byName = new Map<string, tf.Variable>();

  constructor(readonly weights: AdapterWeights) {
    checkAdapterWeights(weights, 'adapter');
    this.variables = [...weights.tensors].map(([name, t]) => {
      const v = tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape, 'float32'), true, TfAdapter.varName(name)));
      this.byName.set(name, v);
      return v;
    });
  }

  static varName(tensor: string): string {
    return `adapter/${tensor}`;
  }

  /** Forward pass [n, dim] → [n, dim] (not normalised). */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const v = (name: string) => this.byName.get(name)!;
    const dense = (a: tf.Tensor2D, p: string) => tf.add(tf.matMul(a, v(`${p}.weight`), false, true), v(`${p}.bias`)) as tf.Tensor2D;
    if (this.weights.kind === 'linear') return dense(x, 'linear');
    const h = dense(x, 'fc1');
    const g = tf.mul(tf.mul(h, 0.5), tf.add(tf.erf(tf.div(h, Math.SQRT2)), 1)) as tf.Tensor2D;
    return tf.add(x, dense(g, 'fc2'));
  }

  /** The current values as plain tensors. */
  snapshot(): AdapterWeights {
    const tensors = new Map<string, AdapterTensor>();
    for (const [name, t] of this.weights.tensors) tensors.set(name, { shape: [...t.shape], data: Float32Array.from(this.byName.get(name)!.dataSync()) });
    return { ...this.weights, tensors };
  }

  /** Overwrite the variables (e.g. from a checkpoint). */
  load(w: AdapterWeights): void {
    checkAdapterWeights(w, 'adapter');
    tf.tidy(() => {
      for (const [name, t] of w.tensors) this.byName.get(name)!.assign(tf.tensor(t.data, t.shape, 'float32'));
    });
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
