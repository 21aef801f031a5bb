/**
 * Backend `ort`: onnxruntime-node. Encodes from a model's ONNX export (`onnx/model.onnx` or
 * `model.onnx`) with our exact HF tokenizer and sentence-transformers pooling / normalization;
 * fine-tunes BERT models (training.method full) from their safetensors weights with forward and
 * backward graphs generated from config.json (plugins/backend/ort/: train-graph.ts, the engine,
 * the step), the weights and AdamW state kept on the host and fed to every run without a copy.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { maxThreads, threadCountProblem } from '../../core/config/threads.js';
import { UserError } from '../../core/errors.js';
import { DataType, encodeModel } from '../../engine/export/onnx-proto.js';
import { resolveModelDir } from '../../engine/model/hub.js';
import { ONNX_CANDIDATES, loadModelLayout, type ModelLayout } from '../../engine/model/layout.js';
import { truncatingEncoder } from '../../engine/model/truncate.js';
import { poolAndNormalize } from '../../engine/model/pooling.js';
import { definePlugin } from '../../core/plugin.js';
import { Tokenizer } from '../../engine/tokenizer.js';
import type { BackendPlugin, EncodeOptions, Encoder, ModelSpec, OptionProblem, RunContext, TrainRequest, TrainResult } from '../../core/types.js';

/**
 * onnxruntime-node (a native module), the trainer and the graph export load when a run encodes or
 * trains (`await import` below), not when validation reads this plugin's schema and checks.
 */
type Ort = typeof import('onnxruntime-node');
const loadOrt = async (): Promise<Ort> => (await import('onnxruntime-node')).default;

const PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'webgpu', 'dml', 'coreml'] as const;

export interface OrtOptions {
  intra_op_threads: number;
  batch_size: number;
  execution_providers: Array<(typeof PROVIDERS)[number]>;
}

export default definePlugin({
  stage: 'backend',
  type: 'ort',
  description:
    'onnxruntime-node: encodes from the model\'s ONNX export, and fine-tunes BERT models (training.method full) with generated forward/backward graphs.',
  canTrain: true,
  /** Every loss: its reference implementation runs in the training graph (tfjs) / on the pooled embeddings (ort). */
  trainsLosses: 'all',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      intra_op_threads: {
        type: 'integer',
        minimum: 0,
        default: 2,
        description:
          'Threads ONNX Runtime uses inside one operator, for encoding and training (0 = ONNX Runtime default: all cores). At most 4 × the cores of the machine that runs it (validate checks).',
      },
      batch_size: { type: 'integer', minimum: 1, default: 32, description: 'Texts per inference call (texts are sorted by length first).' },
      execution_providers: {
        type: 'array',
        items: { type: 'string', enum: [...PROVIDERS] },
        minItems: 1,
        default: ['cpu'],
        description:
          'ONNX Runtime execution providers, in order of preference, for encoding and training. cuda needs onnxruntime-node\'s CUDA provider, which its install script downloads (Linux x64, CUDA 12: ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci); untested by ftrun.',
      },
    },
  },

  /** More threads than the machine can use; execution providers that are not installed or cannot start here (see providerProblems). */
  check: (options: Record<string, unknown>) => [...threadProblems(options), ...executionProviderProblems(options)],

  create: (options: OrtOptions, ctx: RunContext) => new OrtBackend(options, ctx),
});

function threadProblems(options: Record<string, unknown>): OptionProblem[] {
  const n = options.intra_op_threads;
  const why = typeof n === 'number' ? threadCountProblem(n, 'threads') : undefined;
  return why ? [{ path: ['intra_op_threads'], message: `${why}. Use at most ${maxThreads()}, or 0 (ONNX Runtime's default: one per core)` }] : [];
}

function executionProviderProblems(options: Record<string, unknown>): OptionProblem[] {
  return providerProblems((options.execution_providers as string[] | undefined) ?? ['cpu']);
}

class OrtBackend implements BackendPlugin {
  constructor(
    private readonly options: OrtOptions,
    private readonly ctx: RunContext,
  ) {
    const problems = executionProviderProblems(options as unknown as Record<string, unknown>);
    if (problems.length > 0) throw new UserError('E_CONFIG', `backend.${problems[0]!.path.join('.')}: ${problems[0]!.message}`);
  }

  /** Full fine-tuning on onnxruntime (see ./ort/). */
  async train(req: TrainRequest): Promise<TrainResult> {
    const [{ trainFull }, { OrtBertEngine }, { OrtTrainStep, prepareHostLoss }] = await Promise.all([
      import('../../engine/train/full.js'),
      import('./ort/bert-engine.js'),
      import('./ort/train-step.js'),
    ]);
    const dir = await resolveModelDir(req.model, this.ctx, { weights: ['safetensors'] });
    const layout = loadModelLayout(dir, req.model);
    if (!layout.weightsFile) {
      throw new UserError('E_MODEL', `model base (${dir}) has no model.safetensors: the ort trainer reads safetensors weights (convert pytorch_model.bin)`);
    }
    let engine: Awaited<ReturnType<typeof OrtBertEngine.load>>;
    try {
      engine = await OrtBertEngine.load(layout, { threads: this.options.intra_op_threads, executionProviders: this.options.execution_providers });
    } catch (e) {
      throw providerFailure(e, this.options.execution_providers) ?? e;
    }
    const lossBackend = await prepareHostLoss();
    try {
      return await trainFull(req, this.ctx, {
        layout,
        facts: {
          backend: 'ort',
          device: this.options.execution_providers.join(','),
          execution_providers: this.options.execution_providers,
          intra_op_threads: this.options.intra_op_threads,
          batch_size: this.options.batch_size,
          pooling: layout.pooling,
          normalize: layout.normalize,
          max_seq_length: layout.maxSeqLength,
          model_dir: layout.dir,
          dropout: { hidden: engine.cfg.hiddenDropout, attention: engine.cfg.attentionDropout },
          loss_backend: `tfjs ${lossBackend}`,
        },
        encodeBatchSize: this.options.batch_size,
        open: (seam, cfg) => new OrtTrainStep(engine, seam, { weightDecay: cfg.weight_decay }),
        exportTensors: () => engine.exportTensors(),
      });
    } finally {
      await engine.dispose();
    }
  }

  async loadEncoder(model: ModelSpec, name: string): Promise<Encoder> {
    const dir = await resolveModelDir(model, this.ctx, { weights: ['onnx', 'safetensors'] });
    const layout = loadModelLayout(dir, model);
    // The model's ONNX export; else, for a BERT with safetensors weights, the graph ftrun generates from config.json.
    let source: string | Uint8Array;
    if (layout.onnxFile) source = layout.onnxFile;
    else if (layout.weightsFile) source = (await import('../../engine/export/onnx.js')).bertOnnxBytes(dir);
    else {
      throw new UserError(
        'E_MODEL',
        `model ${name} (${dir}) has no ONNX file (looked for ${ONNX_CANDIDATES.join(' and ')}) and no model.safetensors. ` +
          'The ort backend needs an ONNX export (e.g. `optimum-cli export onnx --model <id> <dir>`) or BERT safetensors weights; or use backend tfjs',
      );
    }
    const ort = await loadOrt();
    let session: InferenceSession;
    try {
      const options: InferenceSession.SessionOptions = {
        executionProviders: this.options.execution_providers,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        ...(this.options.intra_op_threads > 0 ? { intraOpNumThreads: this.options.intra_op_threads } : {}),
      };
      session = typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
    } catch (e) {
      throw providerFailure(e, this.options.execution_providers) ?? new UserError('E_MODEL', `cannot load ONNX model ${layout.onnxFile ?? `generated from ${layout.weightsFile}`}: ${(e as Error).message}`, { cause: e });
    }
    return truncatingEncoder(new OrtEncoder(ort, session, layout, Tokenizer.fromFile(layout.tokenizerFile), this.options, this.ctx.signal), layout.truncateDim);
  }
}

/** The directory holding onnxruntime-node's native libraries (where install-time providers land). */
function nativeDir(): string | undefined {
  try {
    const root = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin');
    const napi = readdirSync(root).find((n) => n.startsWith('napi-v'));
    return napi ? join(root, napi, process.platform, process.arch) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Providers this onnxruntime-node cannot run: unknown to the build, (cuda, tensorrt) listed but
 * their library was not downloaded at install time, or listed and installed but unable to start on
 * this machine (webgpu without a GPU adapter): only creating a session tells (see probeProvider).
 */
export function providerProblems(requested: readonly string[]): OptionProblem[] {
  // The cpu provider is built into every onnxruntime-node: asking for it alone needs no look (nor the native module loaded).
  if (requested.every((p) => p === 'cpu')) return [];
  const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;
  const backends = ort.listSupportedBackends();
  const installed = backends.filter((b) => b.bundled || existsSync(join(nativeDir() ?? '', `libonnxruntime_providers_${b.name}.so`))).map((b) => b.name);
  const missing = requested.filter((p) => !installed.includes(p));
  const failing = [...new Set(requested)].filter((p) => p !== 'cpu' && installed.includes(p)).map((p) => [p, probeProvider(p)] as const).filter(([, why]) => why !== undefined);
  if (missing.length === 0 && failing.length === 0) return [];
  const usable = installed.filter((p) => p === 'cpu' || probeProvider(p) === undefined);
  const messages = failing.map(([p, why]) => `${p}: ${why}`);
  if (missing.length) {
    const listed = missing.filter((p) => backends.some((b) => b.name === p));
    const how = listed.length
      ? `: onnxruntime-node's install script downloads ${listed.join(' and ')} (Linux x64, CUDA 12): reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, without onnxruntime-node-install=skip in .npmrc`
      : '';
    messages.unshift(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed in this onnxruntime-node${how}`);
  }
  return [{ path: ['execution_providers'], message: `${messages.join('; ')}. Usable here: ${usable.join(', ')}.` }];
}

/** What probeProvider found, per provider, in this process (a machine's devices do not come and go while it runs). */
const probed = new Map<string, string | undefined>();

/** How long creating a one-node session may take before the provider counts as not starting. */
const PROBE_TIMEOUT_MS = 60_000;

/**
 * Why onnxruntime-node cannot create a session on `provider` here, or undefined when it can. It
 * lists webgpu whatever the machine has, and a cuda library may lack its driver: creating a
 * session on a one-node model (y = x + x) is the cheap test. It runs in a child process, so a
 * provider that crashes, hangs or prints from native code (Dawn's "Couldn't load Vulkan") does
 * none of that to validate's process.
 */
export function probeProvider(provider: string): string | undefined {
  if (probed.has(provider)) return probed.get(provider);
  const model = encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'ftrun',
    producerVersion: 'probe',
    graph: {
      name: 'probe',
      nodes: [{ opType: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
      initializers: [],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 4] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 4] }],
    },
  }).finish();
  const script = `const ort = require(process.argv[1]);
ort.InferenceSession.create(Buffer.from(process.argv[3], 'base64'), { executionProviders: [process.argv[2]], logSeverityLevel: 4 })
  .then((s) => s.release()).then(() => process.stdout.write('\\n' + JSON.stringify({ ok: true })))
  .catch((e) => process.stdout.write('\\n' + JSON.stringify({ ok: false, message: String((e && e.message) || e) })));`;
  const ortEntry = createRequire(import.meta.url).resolve('onnxruntime-node');
  const r = spawnSync(process.execPath, ['-e', script, ortEntry, provider, Buffer.from(model).toString('base64')], { encoding: 'utf8', timeout: PROBE_TIMEOUT_MS });
  let why: string | undefined;
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let result: { ok: boolean; message?: string } | undefined;
  try {
    result = JSON.parse(last) as { ok: boolean; message?: string };
  } catch {
    result = undefined;
  }
  if (result?.ok) why = undefined;
  else if (result) why = providerReason(result.message ?? '');
  else if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') why = `creating a session on it did not finish within ${PROBE_TIMEOUT_MS / 1000} s`;
  else why = `creating a session on it ended the process (${r.signal ?? `exit code ${r.status}`})`;
  probed.set(provider, why);
  return why;
}

/** onnxruntime's reason a provider cannot start, in words (`no GPU adapter found on this machine`), with its own text after. */
export function providerReason(message: string): string {
  const first = message.split('\n')[0]!.trim();
  // "<source>.cc:136 <function> <condition> was false. <what>", or "<source>.cc:136 <function> <what>"
  const what = /^\S+\.(?:cc|h|cpp):\d+ .*? was false\. (.*)$/.exec(first)?.[1] ?? first;
  if (/Failed to get a WebGPU adapter/i.test(what)) return `no GPU adapter found on this machine (onnxruntime-node: ${what})`;
  return `it cannot start here (onnxruntime-node: ${what})`;
}

/**
 * A session that could not be created because of an execution provider, as the config error it
 * is (at backend.execution_providers, naming the provider); undefined for any other failure.
 */
export function providerFailure(e: unknown, requested: readonly string[]): UserError | undefined {
  const message = e instanceof Error ? e.message : String(e);
  const name = /providers[/_]([a-z]+)/.exec(message)?.[1];
  if (name === undefined || name === 'cpu' || !requested.includes(name)) return undefined;
  const text = `${name}: ${providerReason(message)}`;
  return new UserError('E_CONFIG', `backend.execution_providers: ${text}`, { problems: [{ file: '', path: 'backend.execution_providers', message: text }], cause: e });
}

const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'];

class OrtEncoder implements Encoder {
  readonly dim: number;
  readonly info: Record<string, unknown>;
  private readonly output: string;
  private readonly documentOutput: string;

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly layout: ModelLayout,
    private readonly tokenizer: Tokenizer,
    private readonly options: OrtOptions,
    private readonly signal: AbortSignal,
  ) {
    const extra = session.inputNames.filter((n) => !KNOWN_INPUTS.includes(n));
    if (!session.inputNames.includes('input_ids') || extra.length > 0) {
      throw new UserError('E_MODEL', `${layout.onnxFile}: unsupported graph inputs ${session.inputNames.join(', ')}; supported: ${KNOWN_INPUTS.join(', ')} (input_ids required)`);
    }
    const rank = (name: string): number => {
      const m = session.outputMetadata.find((o) => o.name === name);
      return m && m.isTensor ? m.shape.length : 0;
    };
    const names = session.outputNames;
    this.output = names.includes('last_hidden_state') ? 'last_hidden_state' : (names.find((n) => rank(n) === 3) ?? names.find((n) => rank(n) === 2) ?? names[0]!);
    // A query-side adapter export (engine/adapter/onnx.ts) gives documents the base vectors.
    this.documentOutput = names.includes('document_embedding') ? 'document_embedding' : this.output;
    const meta = session.outputMetadata.find((o) => o.name === this.output);
    const last = meta && meta.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
    this.dim = typeof last === 'number' ? last : layout.hiddenSize;
    this.info = {
      backend: 'ort',
      device: options.execution_providers.join(','),
      execution_providers: options.execution_providers,
      intra_op_threads: options.intra_op_threads,
      batch_size: options.batch_size,
      pooling: layout.pooling,
      normalize: layout.normalize,
      max_seq_length: layout.maxSeqLength,
      model_dir: layout.dir,
      onnx_file: layout.onnxFile ?? `(generated from ${layout.weightsFile})`,
      output: this.output,
    };
  }

  async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]> {
    const prompt = opts.kind === 'query' ? this.layout.queryPrompt : this.layout.documentPrompt;
    const enc = texts.map((t) => this.tokenizer.encode(prompt + t, this.layout.maxSeqLength));
    // Longest first, so each batch pads little; results go back to the callers' order.
    const order = enc.map((_, i) => i).sort((a, b) => enc[b]!.ids.length - enc[a]!.ids.length || a - b);
    const out = new Array<Float32Array>(texts.length);
    const bs = this.options.batch_size;
    for (let start = 0; start < order.length; start += bs) {
      if (this.signal.aborted) throw this.signal.reason ?? new Error('aborted');
      const idx = order.slice(start, start + bs);
      const vecs = await this.run(idx.map((i) => enc[i]!), opts.kind === 'document' ? this.documentOutput : this.output);
      idx.forEach((i, k) => (out[i] = vecs[k]!));
      opts.onProgress?.(Math.min(start + bs, order.length), order.length);
    }
    return out;
  }

  private async run(enc: Array<{ ids: number[]; typeIds: number[] }>, output: string): Promise<Float32Array[]> {
    const batch = this.tokenizer.pad(enc);
    const seq = Math.max(1, batch.seqLen); // an all-empty batch still needs one (padding) position
    const tensor = (rows: number[][], fill: number) => {
      const data = new BigInt64Array(rows.length * seq).fill(BigInt(fill));
      rows.forEach((r, b) => r.forEach((v, t) => (data[b * seq + t] = BigInt(v))));
      return new this.ort.Tensor('int64', data, [rows.length, seq]);
    };
    const mask = batch.attentionMask.map((r) => (r.length ? r : [0]));
    const feeds: Record<string, Tensor> = {
      input_ids: tensor(batch.inputIds, this.tokenizer.padId),
      attention_mask: tensor(mask, 0),
    };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = tensor(batch.tokenTypeIds, this.tokenizer.padTypeId);
    const result = await this.session.run(feeds, [output]);
    const t = result[output]!;
    const data = t.data as Float32Array;
    const { pooling, normalize } = this.layout;
    if (t.dims.length === 3) return poolAndNormalize(data, mask, enc.length, t.dims[1]!, t.dims[2]!, pooling, normalize);
    if (t.dims.length === 2) return poolAndNormalize(data, enc.map(() => [1]), enc.length, 1, t.dims[1]!, 'cls', normalize);
    throw new Error(`${this.layout.onnxFile}: output ${output} has shape [${t.dims.join(', ')}], expected rank 2 or 3`);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
