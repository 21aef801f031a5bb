import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../../core/errors.js';
import { defaultThreads, selectTfjsDevice } from '../../../../plugins/backend/tfjs/device.js';
import { threadsShimApplies } from '../../../../plugins/backend/tfjs/wasm-threads.js';

const require = createRequire(import.meta.url);
const installed = (pkg: string): boolean => {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
};
const HAS_NODE = installed('@tensorflow/tfjs-node');
const HAS_NODE_GPU = installed('@tensorflow/tfjs-node-gpu');
const HAS_WEBGPU = installed('webgpu') && installed('@tensorflow/tfjs-backend-webgpu');

function logger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(m), warn: (m: string) => lines.push('warn: ' + m), debug: (m: string) => lines.push('debug: ' + m) };
}

describe('selectTfjsDevice', () => {
  it.skipIf(HAS_NODE || HAS_NODE_GPU)('auto falls back past the missing tfjs-node packages to multi-threaded wasm', async () => {
    const log = logger();
    const sel = await selectTfjsDevice('auto', { logger: log, gemm: 'backend' });
    expect(sel.device).toBe('wasm');
    expect(sel.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(sel.tried).toEqual([
      'node-gpu: @tensorflow/tfjs-node-gpu is not installed',
      'node: @tensorflow/tfjs-node is not installed',
      'wasm: ok',
    ]);
    expect(sel.details.simd).toBe(true);
    expect(sel.details.threads).toBe(threadsShimApplies() ? defaultThreads() : 1);
    expect(sel.details.gemm).toBe('tfjs wasm');
    expect(log.lines.some((l) => l.startsWith('warn'))).toBe(false);
    // the pthread workers must not keep the process alive, and kernels must run on them
    const y = tf.matMul(tf.ones([64, 32]), tf.ones([32, 16]));
    expect(Array.from(y.dataSync()).every((v) => v === 32)).toBe(true);
  });

  it('sends matrix products to onnxruntime by default on wasm and cpu, with the thread count recorded', async () => {
    const n = defaultThreads();
    const want = `onnxruntime-node MLAS, ${n} thread${n === 1 ? '' : 's'}`;
    expect((await selectTfjsDevice('wasm')).details.gemm).toBe(want);
    expect((await selectTfjsDevice('cpu', { threads: 1 })).details.gemm).toBe('onnxruntime-node MLAS, 1 thread');
    expect((await selectTfjsDevice('cpu', { gemm: 'backend' })).details.gemm).toBe('tfjs cpu');
  });

  it('on wasm, clones (and the tensors gradients save) share their data instead of copying it', async () => {
    await selectTfjsDevice('wasm', { gemm: 'backend' });
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    expect(b.dataId).toBe(a.dataId);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]); // reference-counted: still alive
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, x)))(b);
    expect(Array.from(g.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([b, g]);
  });

  it('selects cpu explicitly and records it', async () => {
    const sel = await selectTfjsDevice('cpu');
    expect(sel).toMatchObject({ device: 'cpu', backend: 'cpu', requested: 'cpu', tried: ['cpu: ok'] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(HAS_NODE)('an explicitly requested device that is missing is E_MODEL naming what is available', async () => {
    const err = await selectTfjsDevice('node').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_MODEL');
    expect((err as UserError).message).toMatch(/tfjs device "node" is not available \(@tensorflow\/tfjs-node is not installed\)/);
    expect((err as UserError).message).toMatch(/Available here: auto, .*wasm, cpu\./);
  });

  it.skipIf(HAS_WEBGPU)('webgpu falls back like auto, logging why', async () => {
    const log = logger();
    const sel = await selectTfjsDevice('webgpu', { logger: log });
    expect(sel.requested).toBe('webgpu');
    expect(sel.tried[0]).toMatch(/^webgpu: /);
    expect(sel.device).not.toBe('webgpu');
    expect(log.lines.some((l) => /^warn: tfjs device webgpu is not available: /.test(l))).toBe(true);
  });

  it('rejects an unknown device name', async () => {
    await expect(selectTfjsDevice('tpu' as never)).rejects.toThrow(/unknown tfjs device "tpu"; supported: auto, node-gpu, node, wasm, cpu, webgpu/);
  });
});
