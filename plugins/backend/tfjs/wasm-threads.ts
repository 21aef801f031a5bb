/**
 * Multi-threaded tfjs-backend-wasm in Node.
 *
 * tfjs 4.22 ships a threaded SIMD wasm binary (XNNPACK on a pthreadpool) but disables it in Node
 * (tfjs issue #3830): its Emscripten glue starts pthread workers from `blob:` URLs, which Node's
 * worker_threads refuse, and caps the pool at os.cpus().length / 2. The Emscripten worker script
 * itself supports Node. This module bridges the gap during the backend's initialisation only:
 *  - a Blob subclass records the two scripts tfjs builds as Blobs (the worker script and the
 *    module factory) and writes them to a private temp directory; URL.createObjectURL returns
 *    the worker file's path, and the worker is told to load the factory from its file;
 *  - os.cpus() reports 2 × the requested thread count, so the cap allows it;
 * then everything is restored. Only XNNPACK kernels (matMul, conv) use the extra threads.
 * Used only with the tfjs version it was checked against; callers fall back to one thread.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** The tfjs version whose wasm glue this shim was written for. */
export const THREADS_SHIM_TFJS = '4.22.0';

/** A threaded start that has not finished by then is abandoned (the caller falls back). */
const INIT_TIMEOUT_MS = 30_000;

/** Free variables of the bundled factory that the worker's global scope must provide. */
const FACTORY_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n";

export function threadsShimApplies(): boolean {
  return tf.version.tfjs === THREADS_SHIM_TFJS && typeof Blob === 'function' && typeof URL.createObjectURL === 'function';
}

/**
 * Initialise the wasm backend with `threads` XNNPACK threads. Must run before the wasm backend is
 * first initialised. Returns the thread count in effect, 0 when the backend did not start; throws
 * when the workers do not answer in time (the caller then re-registers the single-threaded build).
 */
export async function setWasmBackendThreaded(threads: number): Promise<number> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
  const dir = mkdtempSync(join(os.tmpdir(), 'ftrun-tfjs-wasm-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const factoryPath = join(dir, 'factory.cjs');
  const texts = new WeakMap<Blob, string>();
  const OrigBlob = globalThis.Blob;
  const origCreate = URL.createObjectURL;
  const origCpus = os.cpus;

  globalThis.Blob = class RecordingBlob extends OrigBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0] as unknown[] | undefined;
      if (Array.isArray(parts) && parts.every((p) => typeof p === 'string')) {
        const text = parts.join('');
        texts.set(this, text);
        if (text.startsWith('var WasmBackendModuleThreadedSimd') && !existsSync(factoryPath)) writeFileSync(factoryPath, FACTORY_PRELUDE + text);
      }
    }
  } as typeof Blob;
  const workerPath = join(dir, 'worker.cjs');
  let workerWritten = false;
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined || !text.includes('ENVIRONMENT_IS_NODE')) return origCreate(blob);
    // Written once: a worker started earlier may still be reading the file.
    if (!workerWritten) {
      const redirect =
        `\n;{const o=self.onmessage;self.onmessage=(e)=>{if(e&&e.data&&e.data.cmd==="load"&&typeof e.data.urlOrBlob!=="string")` +
        `e.data.urlOrBlob=${JSON.stringify(factoryPath)};return o(e)}}\n`;
      writeFileSync(workerPath, text + redirect);
      workerWritten = true;
    }
    return workerPath;
  };
  const cpus = origCpus();
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!);
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(threads);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the pthread workers in ${INIT_TIMEOUT_MS / 1000} s`)), INIT_TIMEOUT_MS);
      timer.unref();
    });
    try {
      if (!(await Promise.race([tf.setBackend('wasm'), timeout]))) return 0;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    globalThis.Blob = OrigBlob;
    URL.createObjectURL = origCreate;
    os.cpus = origCpus;
  }
  unrefWorkers();
  return wasm.getThreadsCount();
}

/** pthread workers must not keep the process alive (Emscripten refs the running ones). */
function unrefWorkers(): void {
  const backend = tf.engine().registry.wasm as unknown as { wasm?: { PThread?: Record<string, unknown> } } | undefined;
  const pt = backend?.wasm?.PThread;
  if (!pt) return;
  for (const key of ['runningWorkers', 'unusedWorkers']) {
    for (const w of (pt[key] as Array<{ unref?: () => void }> | undefined) ?? []) w.unref?.();
  }
}
