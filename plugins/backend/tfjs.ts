/**
 * Backend `tfjs`: a BERT-family sentence encoder written with TensorFlow.js ops (plugins/backend/tfjs/), which
 * both encodes and fine-tunes (training.method full). Weights come from the model directory's
 * model.safetensors; tokenizer, pooling, Normalize, max_seq_length and prompts from its Hugging
 * Face / sentence-transformers files (overridable in `model:`). The device is chosen once per
 * process (auto: tfjs-node-gpu, tfjs-node, wasm, then cpu) and recorded in `info`.
 */
import { createRequire } from 'node:module';
import { maxThreads, threadCountProblem } from '../../core/config/threads.js';
import { UserError } from '../../core/errors.js';
import { resolveModelDir } from '../../engine/model/hub.js';
import { loadModelLayout, type ModelLayout } from '../../engine/model/layout.js';
import { truncatingEncoder } from '../../engine/model/truncate.js';
import { definePlugin } from '../../core/plugin.js';
import type { DeviceSelection } from './tfjs/device.js';
import { TFJS_DEVICES, type TfjsDevice } from './tfjs/devices.js';
import type { TfjsSentenceModel } from './tfjs/sentence.js';
import type { BackendPlugin, EncodeOptions, Encoder, IneffectiveOption, ModelSpec, OptionProblem, RunContext, TrainRequest, TrainResult } from '../../core/types.js';

// tfjs (device selection, the model, the trainer) loads when a run encodes or trains (`await import`
// below), not when validation reads this plugin's schema and checks.

export interface TfjsOptions {
  device: TfjsDevice;
  threads: number;
  batch_size: number;
}

export default definePlugin({
  stage: 'backend',
  type: 'tfjs',
  description: 'BERT-family encoder on TensorFlow.js (wasm/cpu, or tfjs-node when installed): encodes and fine-tunes (training.method full).',
  canTrain: true,
  /** Every loss: its reference implementation runs in the training graph (tfjs) / on the pooled embeddings (ort). */
  trainsLosses: 'all',
  /** Also loads the bundled models of plugins/backend/tfjs/bundled (model.bundled). */
  servesBundled: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      device: {
        type: 'string',
        enum: [...TFJS_DEVICES],
        default: 'auto',
        description: 'Where tfjs runs: auto (tfjs-node-gpu, tfjs-node, wasm, then cpu — the first available), node-gpu, node, wasm, cpu or webgpu (falls back like auto).',
      },
      threads: {
        type: 'integer',
        minimum: 1,
        default: 2,
        description: 'wasm only: XNNPACK threads for matrix products (1 = single-threaded). At most 4 × the cores of the machine that runs it (validate checks).',
      },
      batch_size: { type: 'integer', minimum: 1, default: 32, description: 'Texts per forward pass when encoding (texts are sorted by length first).' },
    },
  },

  /** More threads than the machine can use; `device: node-gpu` / `node` name optional packages: refused when they are not installed. */
  check(options: Record<string, unknown>): OptionProblem[] {
    const threads = typeof options.threads === 'number' ? threadCountProblem(options.threads, 'threads') : undefined;
    const out: OptionProblem[] = threads ? [{ path: ['threads'], message: `${threads}. Use at most ${maxThreads()}` }] : [];
    const device = options.device as TfjsDevice | undefined;
    if (device !== 'node-gpu' && device !== 'node') return out;
    const pkg = device === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    try {
      createRequire(import.meta.url).resolve(pkg);
      return out;
    } catch {
      const needs = device === 'node-gpu' ? ' (it needs CUDA 11.2 and cuDNN 8, and downloads libtensorflow when it installs)' : ' (it downloads libtensorflow when it installs)';
      return [...out, { path: ['device'], message: `${device} needs ${pkg}, which is not installed: npm install ${pkg}${needs}; or use device: auto` }];
    }
  },

  /** XNNPACK threads are the wasm device's: other devices ignore them. */
  ineffective(options: Record<string, unknown>): IneffectiveOption[] {
    const device = String(options.device);
    return device !== 'auto' && device !== 'wasm' && options.threads !== undefined ? [{ path: ['threads'], because: `they are the wasm device's XNNPACK threads, and device is ${device}` }] : [];
  },

  create: (options: TfjsOptions, ctx: RunContext) => new TfjsBackend(options, ctx),
});

class TfjsBackend implements BackendPlugin {
  private selection?: DeviceSelection;

  constructor(
    private readonly options: TfjsOptions,
    private readonly ctx: RunContext,
  ) {}

  /** Activate the device (once per process: tfjs has one global backend). */
  private async device(): Promise<DeviceSelection> {
    const { selectTfjsDevice } = await import('./tfjs/device.js');
    this.selection ??= await selectTfjsDevice(this.options.device, { threads: this.options.threads, logger: this.ctx.logger });
    return this.selection;
  }

  private async load(spec: ModelSpec, name: string): Promise<{ model: TfjsSentenceModel; layout: ModelLayout; sel: DeviceSelection }> {
    const sel = await this.device();
    const dir = await resolveModelDir(spec, this.ctx, { weights: ['safetensors'] });
    const layout = loadModelLayout(dir, spec);
    if (!layout.weightsFile) {
      throw new UserError('E_MODEL', `model ${name} (${dir}) has no model.safetensors: the tfjs backend reads safetensors weights (convert pytorch_model.bin, or use backend ort with an ONNX export)`);
    }
    const { TfjsSentenceModel } = await import('./tfjs/sentence.js');
    return { model: TfjsSentenceModel.load(layout), layout, sel };
  }

  private facts(sel: DeviceSelection, layout: ModelLayout): Record<string, unknown> {
    return {
      backend: 'tfjs',
      device: sel.device,
      tfjs_backend: sel.backend,
      requested_device: sel.requested,
      devices_tried: sel.tried,
      ...sel.details,
      batch_size: this.options.batch_size,
      pooling: layout.pooling,
      normalize: layout.normalize,
      max_seq_length: layout.maxSeqLength,
      model_dir: layout.dir,
    };
  }

  async loadEncoder(spec: ModelSpec, name: string): Promise<Encoder> {
    if (spec.bundled !== undefined) {
      const { loadBundled } = await import('./tfjs/bundled/index.js');
      return truncatingEncoder(await loadBundled(spec.bundled, {
        selection: await this.device(),
        batchSize: this.options.batch_size,
        queryPrompt: spec.query_prompt,
        documentPrompt: spec.document_prompt,
        logger: this.ctx.logger,
        signal: this.ctx.signal,
      }), spec.truncate_dim);
    }
    const { model, layout, sel } = await this.load(spec, name);
    return truncatingEncoder(new TfjsEncoder(model, this.facts(sel, layout), this.options.batch_size, this.ctx.signal), layout.truncateDim);
  }

  async train(req: TrainRequest): Promise<TrainResult> {
    const [{ trainFull }, { createOptimizer, TrainStep }] = await Promise.all([import('../../engine/train/full.js'), import('./tfjs/train-step.js')]);
    const { model, layout, sel } = await this.load(req.model, 'base');
    try {
      return await trainFull(req, this.ctx, {
        layout,
        facts: this.facts(sel, layout),
        encodeBatchSize: this.options.batch_size,
        open: (seam, cfg) => new TrainStep(model, seam, createOptimizer(model, cfg.learning_rate, cfg.weight_decay)),
        exportTensors: () => model.bert.exportTensors(),
      });
    } finally {
      model.dispose();
    }
  }
}

class TfjsEncoder implements Encoder {
  readonly dim: number;

  constructor(
    private readonly model: TfjsSentenceModel,
    readonly info: Record<string, unknown>,
    private readonly batchSize: number,
    private readonly signal: AbortSignal,
  ) {
    this.dim = model.dim;
  }

  async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]> {
    const prompt = opts.kind === 'query' ? this.model.layout.queryPrompt : this.model.layout.documentPrompt;
    // Longest first, so each batch pads little; results go back to the callers' order.
    const order = texts.map((_, i) => i).sort((a, b) => (prompt + texts[b]!).length - (prompt + texts[a]!).length || a - b);
    const out = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      if (this.signal.aborted) throw this.signal.reason ?? new Error('aborted');
      const idx = order.slice(start, start + this.batchSize);
      const vecs = this.model.embed(idx.map((i) => texts[i]!), opts.kind, this.batchSize);
      idx.forEach((i, k) => (out[i] = vecs[k]!));
      opts.onProgress?.(Math.min(start + this.batchSize, order.length), order.length);
      await new Promise((res) => setImmediate(res));
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
