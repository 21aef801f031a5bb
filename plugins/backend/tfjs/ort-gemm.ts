/**
 * Matrix products on onnxruntime-node's native CPU kernels (MLAS: AVX2/AVX-512 FMA), for the
 * tfjs `wasm` and `cpu` devices. On this project's reference machine MLAS multiplies ~2.6× faster
 * per core than XNNPACK in wasm SIMD128 (which has no FMA), and matrix products are ~75% of a
 * BERT training step. Products are computed synchronously (the ORT node binding's session is
 * synchronous; the public `run` only wraps it in a promise), so they work inside tf.customGrad
 * and tf.variableGrads. Operands are copied out of and back into tfjs memory.
 *
 * Each variant is a one-node ONNX graph with symbolic dimensions, built here:
 *   rank 2: Gemm(A, B[, bias]) with transA/transB     rank 3: MatMul with optional Transposes
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: Record<string, unknown>): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: Record<string, unknown>): Record<string, { data: Float32Array; dims: readonly number[] }>;
  dispose(): void;
}
interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  binding: { InferenceSession: new () => NativeSession };
}

let ort: Ort | undefined;
let threads = 1;
const sessions = new Map<string, NativeSession>();

/** Load onnxruntime-node's synchronous binding; returns why it is unavailable, or undefined. */
export function enableOrtGemm(intraOpThreads: number): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require('onnxruntime-node') as { Tensor: Ort['Tensor'] };
    const native = require('onnxruntime-node/dist/binding.js') as { binding: Ort['binding']; initOrt: () => void };
    native.initOrt();
    ort = { Tensor: pkg.Tensor, binding: native.binding };
    threads = Math.max(1, intraOpThreads);
    for (const s of sessions.values()) s.dispose();
    sessions.clear();
    const probe = run(2, false, true, false, [new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]], [new Float32Array([1, 1, 1, 0, 1, 0]), [2, 3]]);
    if (Array.from(probe.data).join() !== '6,2,15,5') throw new Error(`probe product gave ${Array.from(probe.data).join()}`);
    return undefined;
  } catch (e) {
    ort = undefined;
    return `onnxruntime-node's synchronous session is unavailable: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function disableOrtGemm(): void {
  ort = undefined;
}

/** `onnxruntime (N threads)` when active. */
export function ortGemmInfo(): string | undefined {
  return ort ? `onnxruntime-node MLAS, ${threads} thread${threads === 1 ? '' : 's'}` : undefined;
}

export function ortGemmActive(): boolean {
  return ort !== undefined;
}

/**
 * op(a)·op(b) (+ bias), op = transpose when the flag is set; rank 2 (with optional bias [n]) or
 * rank 3 (batched, equal batch sizes).
 */
export function gemm(a: tf.Tensor, b: tf.Tensor, transA = false, transB = false, bias?: tf.Tensor1D): tf.Tensor {
  if (!ort) throw new Error('gemm: onnxruntime GEMM is not enabled');
  const T = (t: tf.Tensor): [Float32Array, number[]] => [t.dataSync() as Float32Array, t.shape];
  const y = run(a.rank, transA, transB, !!bias, T(a), T(b), bias ? T(bias) : undefined);
  return tf.tensor(y.data, [...y.dims], 'float32');
}

function run(
  rank: number, transA: boolean, transB: boolean, hasBias: boolean,
  a: [Float32Array, number[]], b: [Float32Array, number[]], bias?: [Float32Array, number[]],
): { data: Float32Array; dims: readonly number[] } {
  const key = `${rank}${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}${hasBias ? 'b' : ''}`;
  let s = sessions.get(key);
  if (!s) {
    s = new ort!.binding.InferenceSession();
    const m = rank === 2 ? gemmModel(transA, transB, hasBias) : batchedModel(transA, transB);
    s.loadModel(m.buffer, m.byteOffset, m.byteLength, {
      intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
      // Each session has its own pool; spinning idle workers of one starve the others and the
      // JS thread between products (seen: 10× slower steps with 2 threads on 2 cores).
      extra: { session: { 'intra_op.allow_spinning': '0' } },
    });
    sessions.set(key, s);
  }
  const feeds: Record<string, unknown> = { A: new ort!.Tensor('float32', ...a), B: new ort!.Tensor('float32', ...b) };
  if (bias) feeds.C = new ort!.Tensor('float32', ...bias);
  return s.run(feeds, { Y: null }, {}).Y!;
}

// ---- a minimal ONNX protobuf writer (only what these graphs need) ----
type Bytes = number[];
const varint = (n: number): Bytes => {
  const out: Bytes = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const field = (f: number, wire: number): Bytes => varint(f * 8 + wire);
const msg = (f: number, body: Bytes): Bytes => [...field(f, 2), ...varint(body.length), ...body];
const str = (f: number, s: string): Bytes => msg(f, [...Buffer.from(s, 'utf8')]);
const int = (f: number, n: number): Bytes => [...field(f, 0), ...varint(n)];
const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function valueInfo(name: string, dims: string[]): Bytes {
  const shape = dims.flatMap((d) => msg(1, str(2, d))); // TensorShapeProto.Dimension.dim_param
  return [...str(1, name), ...msg(2, msg(1, [...int(1, FLOAT), ...msg(2, shape)]))];
}
const attrInt = (name: string, v: number): Bytes => msg(5, [...str(1, name), ...int(3, v), ...int(20, ATTR_INT)]);
const attrInts = (name: string, vs: number[]): Bytes => msg(5, [...str(1, name), ...vs.flatMap((v) => int(8, v)), ...int(20, ATTR_INTS)]);
const node = (inputs: string[], output: string, op: string, attrs: Bytes = []): Bytes =>
  msg(1, [...inputs.flatMap((i) => str(1, i)), ...str(2, output), ...str(4, op), ...attrs]);

function model(nodes: Bytes, inputs: Bytes, outputs: Bytes): Uint8Array {
  const graph = [...nodes, ...str(2, 'g'), ...inputs, ...outputs];
  return Uint8Array.from([...int(1, 8), ...msg(8, [...str(1, ''), ...int(2, 17)]), ...msg(7, graph)]);
}

function gemmModel(transA: boolean, transB: boolean, bias: boolean): Uint8Array {
  const attrs = [...(transA ? attrInt('transA', 1) : []), ...(transB ? attrInt('transB', 1) : [])];
  const ins = [...msg(11, valueInfo('A', ['a0', 'a1'])), ...msg(11, valueInfo('B', ['b0', 'b1'])), ...(bias ? msg(11, valueInfo('C', ['c0'])) : [])];
  return model(node(bias ? ['A', 'B', 'C'] : ['A', 'B'], 'Y', 'Gemm', attrs), ins, msg(12, valueInfo('Y', ['y0', 'y1'])));
}

function batchedModel(transA: boolean, transB: boolean): Uint8Array {
  const nodes: Bytes = [];
  if (transA) nodes.push(...node(['A'], 'At', 'Transpose', attrInts('perm', [0, 2, 1])));
  if (transB) nodes.push(...node(['B'], 'Bt', 'Transpose', attrInts('perm', [0, 2, 1])));
  nodes.push(...node([transA ? 'At' : 'A', transB ? 'Bt' : 'B'], 'Y', 'MatMul'));
  const ins = [...msg(11, valueInfo('A', ['g', 'a1', 'a2'])), ...msg(11, valueInfo('B', ['g', 'b1', 'b2']))];
  return model(nodes, ins, msg(12, valueInfo('Y', ['g', 'y1', 'y2'])));
}
