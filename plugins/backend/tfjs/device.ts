/**
 * Device selection for the tfjs backend.
 *
 * `auto` tries, in order: @tensorflow/tfjs-node-gpu, @tensorflow/tfjs-node (optional packages,
 * loaded with a dynamic import only when present), @tensorflow/tfjs-backend-wasm, then tfjs's
 * plain-JS cpu backend. `webgpu` needs the `webgpu` package (Dawn for Node), a WebGPU adapter and
 * @tensorflow/tfjs-backend-webgpu; where any is missing it falls back like `auto`, with the reason
 * logged. Any other explicitly requested device that is unavailable is a UserError (E_MODEL)
 * naming the devices that are available. The result records what was actually used.
 * On the wasm and cpu devices, matrix products go to onnxruntime-node's native kernels when it
 * loads (`gemm: 'auto'`, see ort-gemm.ts) on `threads` threads (default: the CPU count, at most
 * 8); otherwise wasm's XNNPACK runs on `threads` threads through the shim in wasm-threads.ts
 * (one thread where the shim does not apply).
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../core/errors.js';
import type { Logger } from '../../../core/types.js';
import { disableOrtGemm, enableOrtGemm, ortGemmInfo } from './ort-gemm.js';
import { setWasmBackendThreaded, threadsShimApplies } from './wasm-threads.js';

import { TFJS_DEVICES, type TfjsDevice } from './devices.js';

export { TFJS_DEVICES, type TfjsDevice };

export interface DeviceSelection {
  /** The device actually used. */
  device: Exclude<TfjsDevice, 'auto'>;
  /** tfjs backend name (tensorflow, wasm, cpu, webgpu). */
  backend: string;
  /** What was requested. */
  requested: TfjsDevice;
  /** One line per device tried, in order: `<device>: ok` or `<device>: <why not>`. */
  tried: string[];
  /** Backend facts worth recording (e.g. wasm SIMD). */
  details: Record<string, unknown>;
}

type Concrete = Exclude<TfjsDevice, 'auto'>;
const AUTO_ORDER: Concrete[] = ['node-gpu', 'node', 'wasm', 'cpu'];
const PACKAGES: Record<Concrete, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

/** Import a package that may not be installed; a variable specifier keeps tsc from resolving it. */
async function importOptional(name: string): Promise<Record<string, any>> {
  return (await import(name)) as Record<string, any>;
}

function reasonOf(e: unknown, pkg: string): string {
  const err = e as { code?: string; message?: string };
  if (err?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(err?.message ?? '')) {
    return `${pkg} is not installed`;
  }
  return `${pkg} failed to load: ${(err?.message ?? String(e)).split('\n')[0]}`;
}

export interface SelectOptions {
  logger?: Logger;
  /** Compute threads for matrix products (default: CPU count, at most 8). */
  threads?: number;
  /**
   * wasm and cpu devices: where matrix products run. auto = onnxruntime-node when it loads, else
   * the tfjs backend; onnxruntime = required (E_MODEL if unavailable); backend = tfjs only.
   */
  gemm?: 'auto' | 'onnxruntime' | 'backend';
}

export function defaultThreads(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

/**
 * wasm's Identity kernel copies its input; tfjs calls it for every tensor a gradient saves (clone)
 * and for tf.clone. Tensors are immutable, so the copy can share the data with a reference count,
 * as the cpu backend's Identity and wasm's own Reshape do.
 */
function shareWasmIdentity(): void {
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x'] as tf.TensorInfo;
      (backend as unknown as { incRef(id: tf.DataId): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}

async function activateWasm(pkg: string, threads: number, logger?: Logger): Promise<string | undefined> {
  await importOptional(pkg);
  shareWasmIdentity();
  if (ortGemmInfo() !== undefined) threads = 1; // XNNPACK keeps only attention's small products
  const initialised = tf.engine().registry.wasm !== undefined;
  if (threads > 1 && !initialised && threadsShimApplies()) {
    const factory = tf.findBackendFactory('wasm');
    let got = 0;
    try {
      got = await setWasmBackendThreaded(threads);
    } catch (e) {
      logger?.warn(`multi-threaded wasm did not start (${(e as Error).message}); using one thread`);
    }
    if (got > 0) return undefined;
    // removeBackend also invalidates a pending (hung) initialisation of the threaded build
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, 2);
  }
  return (await tf.setBackend('wasm')) ? undefined : 'the wasm backend failed to initialise';
}

/** Try to activate one device; returns undefined on success or the reason it is unavailable. */
async function activate(device: Concrete, opts: SelectOptions = {}): Promise<string | undefined> {
  const pkg = PACKAGES[device];
  try {
    if (device === 'node-gpu' || device === 'node') {
      await importOptional(pkg);
      if (!tf.findBackendFactory('tensorflow')) {
        return `${pkg} loaded but registered no "tensorflow" backend with this @tensorflow/tfjs (version mismatch?)`;
      }
      return (await tf.setBackend('tensorflow')) ? undefined : `backend "tensorflow" of ${pkg} failed to initialise`;
    }
    const fast = device === 'wasm' || device === 'cpu';
    if (!fast) disableOrtGemm();
    if (fast && (opts.gemm ?? 'auto') !== 'backend') {
      const why = enableOrtGemm(opts.threads ?? defaultThreads());
      if (why !== undefined && opts.gemm === 'onnxruntime') return why;
      if (why !== undefined) opts.logger?.debug(`matrix products stay on the tfjs backend: ${why}`);
    } else if (fast) disableOrtGemm();
    if (device === 'wasm') return await activateWasm(pkg, opts.threads ?? defaultThreads(), opts.logger);
    if (device === 'cpu') return (await tf.setBackend('cpu')) ? undefined : 'the cpu backend failed to initialise';
    return await activateWebgpu();
  } catch (e) {
    return reasonOf(e, pkg);
  }
}

async function activateWebgpu(): Promise<string | undefined> {
  const g = globalThis as Record<string, any>;
  if (!g.navigator?.gpu) {
    let dawn: Record<string, any>;
    try {
      dawn = await importOptional('webgpu');
    } catch (e) {
      return reasonOf(e, 'webgpu (Dawn for Node)');
    }
    Object.assign(g, dawn.globals ?? {});
    const gpu = dawn.create([]);
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  const adapter = await g.navigator.gpu.requestAdapter();
  if (!adapter) return 'no WebGPU adapter found (requestAdapter() returned null)';
  try {
    await importOptional(PACKAGES.webgpu);
  } catch (e) {
    return reasonOf(e, PACKAGES.webgpu);
  }
  return (await tf.setBackend('webgpu')) ? undefined : 'the webgpu backend failed to initialise';
}

function wasmThreads(): number {
  const backend = tf.engine().registry.wasm as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | undefined;
  return backend?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

function details(backend: string): Record<string, unknown> {
  const out: Record<string, unknown> = { tfjs: tf.version.tfjs, gemm: ortGemmInfo() ?? `tfjs ${backend}` };
  if (backend === 'wasm') {
    out.simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    out.threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? wasmThreads() : 1;
  }
  return out;
}

/**
 * Select and activate a tfjs device (a global setting of tfjs). tfjs's own console banners are
 * silenced (prod mode); the reason for every fallback is logged as a warning when `logger` is given.
 */
export async function selectTfjsDevice(device: TfjsDevice, opts: SelectOptions = {}): Promise<DeviceSelection> {
  if (!TFJS_DEVICES.includes(device)) {
    throw new UserError('E_CONFIG', `unknown tfjs device "${device}"; supported: ${TFJS_DEVICES.join(', ')}`);
  }
  tf.enableProdMode();
  const order: Concrete[] = device === 'auto' ? AUTO_ORDER : device === 'webgpu' ? ['webgpu', ...AUTO_ORDER] : [device];
  const tried: string[] = [];
  for (const d of order) {
    const why = await activate(d, opts);
    if (why === undefined) {
      tried.push(`${d}: ok`);
      await tf.ready();
      const backend = tf.getBackend();
      return { device: d, backend, requested: device, tried, details: details(backend) };
    }
    tried.push(`${d}: ${why}`);
    if (device !== 'auto') opts.logger?.warn(`tfjs device ${d} is not available: ${why}`);
    else opts.logger?.debug(`tfjs device ${d} skipped: ${why}`);
  }
  const available: string[] = [];
  for (const d of AUTO_ORDER) if (d !== device && (await activate(d)) === undefined) available.push(d);
  throw new UserError(
    'E_MODEL',
    `tfjs device "${device}" is not available (${tried.map((t) => t.replace(/^[^:]+: /, '')).join('; ')}). ` +
      `Available here: auto, ${available.join(', ')}.`,
  );
}
