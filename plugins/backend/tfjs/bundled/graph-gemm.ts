/**
 * Matrix products of a frozen tfjs graph model on onnxruntime-node's native GEMM
 * (plugins/backend/tfjs/ort-gemm.ts), which the tfjs device selection enables on the wasm and cpu devices.
 *
 * `routeProductsToNativeGemm` renames a topology's MatMul, BatchMatMul and plain Conv2D nodes
 * (stride 1, no dilation, NHWC: USE's 1×1 "dense" convolutions) to namespaced custom ops
 * (`ftrun.graph-gemm/<op>`), registered once with tfjs-converter. Only graphs rewritten this way
 * use them. Each op runs on native GEMM when it is active and the case is a plain one (equal batch
 * dimensions, 1×1 filter), and otherwise exactly as tfjs's own executor would.
 */
import * as tf from '@tensorflow/tfjs';
import { gemm, ortGemmActive } from '../ort-gemm.js';

const PREFIX = 'ftrun.graph-gemm/';

interface GraphNodeJson {
  op: string;
  attr?: Record<string, { list?: { i?: Array<string | number> }; s?: string | number[] }>;
}

interface CustomOpNode {
  inputs: tf.Tensor[];
  attrs: Record<string, unknown>;
}

/** op(a)·op(b) over equal leading (batch) dimensions, on native GEMM when possible. */
function product(a: tf.Tensor, b: tf.Tensor, transA: boolean, transB: boolean): tf.Tensor {
  const sameBatch = a.rank === b.rank && a.rank >= 2 && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
  if (!ortGemmActive() || !sameBatch || a.dtype !== 'float32' || b.dtype !== 'float32') return tf.matMul(a, b, transA, transB);
  if (a.rank === 2) return gemm(a, b, transA, transB);
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const y = gemm(tf.reshape(a, [-1, ...a.shape.slice(-2)]), tf.reshape(b, [-1, ...b.shape.slice(-2)]), transA, transB);
    return tf.reshape(y, [...lead, ...y.shape.slice(-2)]);
  });
}

function conv2d(node: CustomOpNode): tf.Tensor {
  const [x, f] = node.inputs as [tf.Tensor4D, tf.Tensor4D];
  if (!ortGemmActive() || f.shape[0] !== 1 || f.shape[1] !== 1) {
    const padding = String(node.attrs.padding ?? 'valid').toLowerCase() as 'valid' | 'same';
    return tf.conv2d(x, f, 1, padding, 'NHWC', 1);
  }
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const y = product(tf.reshape(x, [n * h * w, c]), tf.reshape(f, [c, f.shape[3]]), false, false);
    return tf.reshape(y, [n, h, w, f.shape[3]]);
  });
}

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerOp(PREFIX + 'MatMul', (n) => {
    const node = n as unknown as CustomOpNode;
    return product(node.inputs[0]!, node.inputs[1]!, node.attrs.transpose_a === true, node.attrs.transpose_b === true);
  });
  tf.registerOp(PREFIX + 'BatchMatMul', (n) => {
    const node = n as unknown as CustomOpNode;
    return product(node.inputs[0]!, node.inputs[1]!, node.attrs.adj_x === true, node.attrs.adj_y === true);
  });
  tf.registerOp(PREFIX + 'Conv2D', (n) => conv2d(n as unknown as CustomOpNode));
}

const isOnes = (v: { list?: { i?: Array<string | number> } } | undefined): boolean =>
  v?.list?.i === undefined || v.list.i.every((x) => Number(x) === 1);

/** A string attribute (stored as a string or as its bytes); `dflt` when absent. */
function str(v: { s?: string | number[] } | undefined, dflt: string): string {
  if (v?.s === undefined) return dflt;
  return typeof v.s === 'string' ? v.s : String.fromCharCode(...v.s);
}

/** Rewrite a graph topology in place; returns how many nodes now use native GEMM when active. */
export function routeProductsToNativeGemm(topology: { node?: GraphNodeJson[] }): number {
  register();
  let n = 0;
  for (const node of topology.node ?? []) {
    const plainConv =
      node.op === 'Conv2D' &&
      isOnes(node.attr?.strides) &&
      isOnes(node.attr?.dilations) &&
      str(node.attr?.data_format, 'NHWC') === 'NHWC' &&
      ['VALID', 'SAME'].includes(str(node.attr?.padding, ''));
    if (node.op === 'MatMul' || node.op === 'BatchMatMul' || node.op === 'BatchMatMulV2' || plainConv) {
      node.op = PREFIX + (node.op === 'BatchMatMulV2' ? 'BatchMatMul' : node.op);
      n++;
    }
  }
  return n;
}
