/**
 * A BERT sentence encoder trained on onnxruntime-node: weights live on the host as Float32Arrays
 * (updated in place by the optimizer, fed to every run without a copy), and three sessions run
 * the graphs of train-graph.ts — forward with saved activations, backward, and forward for
 * evaluation. Tokenizer, pooling and Normalize come from the model directory (ModelLayout).
 */
import ort from 'onnxruntime-node';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { UserError } from '../../../core/errors.js';
import type { ModelLayout } from '../../../engine/model/layout.js';
import { poolAndNormalize } from '../../../engine/model/pooling.js';
import { readSafetensors, type SafeTensor, type TensorToWrite } from '../../../core/safetensors.js';
import { bertWeightShapes, parseBertConfig, SUPPORTED_MODELS, type BertConfig } from '../../../engine/model/bert-config.js';
import { Tokenizer } from '../../../engine/tokenizer.js';
import type { TextKind } from '../../../core/types.js';
import { FTRUN_VERSION } from '../../../core/version.js';
import { buildBackwardGraph, buildForwardGraph, EMBEDDING_TABLES, gradientNames, savedValues, type TrainGraphOptions } from './train-graph.js';

export interface EngineOptions {
  /** Intra-op threads (0 = ONNX Runtime's default). */
  threads: number;
  executionProviders: string[];
}

/** One tokenized batch, padded to its longest row. */
export interface TokenBatch {
  B: number;
  S: number;
  inputIds: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** 0/1 as float [B, S] */
  mask: Float32Array;
  /** The same mask as rows (for pooling). */
  maskRows: number[][];
  ids: Int32Array;
  types: Int32Array;
}

export interface ForwardResult {
  batch: TokenBatch;
  /** last_hidden_state [B, S, H] */
  hidden: Float32Array;
  /** Saved activations (train mode) for backward(). */
  saved?: Record<string, Tensor>;
  masks?: Map<string, Float32Array>;
}

export class OrtBertEngine {
  /** Encoder weights by their name without the file's prefix (HF layouts). */
  readonly weights = new Map<string, Float32Array>();
  /** Tensors of the weights file the encoder does not use (pooler…), written back unchanged. */
  readonly extras = new Map<string, SafeTensor>();
  readonly graphOptions: TrainGraphOptions;
  private readonly feeds: Record<string, Tensor> = {};
  private readonly shapes: Map<string, number[]>;

  private constructor(
    readonly layout: ModelLayout,
    readonly cfg: BertConfig,
    readonly prefix: string,
    readonly tokenizer: Tokenizer,
    private readonly sessions: { train: InferenceSession; eval: InferenceSession; backward: InferenceSession },
    tensors: Map<string, SafeTensor>,
    graphOptions: TrainGraphOptions,
  ) {
    this.graphOptions = graphOptions;
    this.shapes = bertWeightShapes(cfg);
    for (const [name, shape] of this.shapes) {
      const t = tensors.get(prefix + name)!;
      const data = Float32Array.from(t.data);
      this.weights.set(name, data);
      this.feeds[name] = new ort.Tensor('float32', data, shape);
    }
    for (const [name, t] of tensors) if (!this.shapes.has(name.slice(prefix.length)) || !name.startsWith(prefix)) this.extras.set(name, t);
  }

  /** Reads config.json + model.safetensors and builds the three sessions. */
  static async load(layout: ModelLayout, opts: EngineOptions): Promise<OrtBertEngine> {
    if (!layout.weightsFile) throw new UserError('E_MODEL', `${layout.dir}: no model.safetensors (the ort trainer reads safetensors weights)`);
    const cfg = parseBertConfig(layout.config, `${layout.dir}/config.json`);
    const tensors = readSafetensors(layout.weightsFile);
    const prefix = tensors.has('embeddings.word_embeddings.weight') || !tensors.has('bert.embeddings.word_embeddings.weight') ? '' : 'bert.';
    const shapes = bertWeightShapes(cfg);
    const missing = [...shapes.keys()].filter((n) => !tensors.has(prefix + n));
    if (missing.length > 0) {
      const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
      throw new UserError('E_MODEL', `${layout.weightsFile}: missing BERT weights ${missing.slice(0, 3).join(', ')}${more}; ${SUPPORTED_MODELS}`);
    }
    for (const [name, shape] of shapes) {
      const t = tensors.get(prefix + name)!;
      if (t.shape.join(',') !== shape.join(',')) throw new UserError('E_MODEL', `${layout.weightsFile}: weight ${prefix + name} has shape [${t.shape}], config.json implies [${shape}]`);
    }
    const graphOptions = { hiddenDropout: cfg.hiddenDropout > 0, attentionDropout: cfg.attentionDropout > 0 };
    const options: InferenceSession.SessionOptions = {
      executionProviders: opts.executionProviders,
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(opts.threads > 0 ? { intraOpNumThreads: opts.threads } : {}),
    };
    const [train, evalSession, backward] = await Promise.all([
      ort.InferenceSession.create(buildForwardGraph(cfg, 'train', graphOptions, FTRUN_VERSION), options),
      ort.InferenceSession.create(buildForwardGraph(cfg, 'eval', graphOptions, FTRUN_VERSION), options),
      ort.InferenceSession.create(buildBackwardGraph(cfg, graphOptions, FTRUN_VERSION), options),
    ]);
    return new OrtBertEngine(layout, cfg, prefix, Tokenizer.fromFile(layout.tokenizerFile), { train, eval: evalSession, backward }, tensors, graphOptions);
  }

  get dim(): number {
    return this.cfg.hiddenSize;
  }

  /** Token ids for texts (the query/document prompt prepended), truncated to max_seq_length. */
  tokenize(texts: string[], kind?: TextKind): TokenBatch {
    const prompt = kind === 'query' ? this.layout.queryPrompt : kind === 'document' ? this.layout.documentPrompt : '';
    const max = Math.min(this.layout.maxSeqLength, this.cfg.maxPositions);
    const p = this.tokenizer.encodeBatch(prompt ? texts.map((t) => prompt + t) : texts, max);
    const B = texts.length;
    const S = Math.max(1, p.seqLen);
    const ids = new Int32Array(B * S).fill(this.tokenizer.padId);
    const types = new Int32Array(B * S).fill(this.tokenizer.padTypeId);
    const mask = new Float32Array(B * S);
    const maskRows: number[][] = [];
    for (let b = 0; b < B; b++) {
      ids.set(p.inputIds[b]!, b * S);
      types.set(p.tokenTypeIds[b]!, b * S);
      const m = p.attentionMask[b]!.length ? p.attentionMask[b]! : new Array<number>(S).fill(0);
      mask.set(m, b * S);
      maskRows.push(m);
    }
    return { B, S, ids, types, mask, maskRows, inputIds: BigInt64Array.from(ids, (v) => BigInt(v)), tokenTypeIds: BigInt64Array.from(types, (v) => BigInt(v)) };
  }

  private inputFeeds(b: TokenBatch): Record<string, Tensor> {
    return {
      ...this.feeds,
      input_ids: new ort.Tensor('int64', b.inputIds, [b.B, b.S]),
      token_type_ids: new ort.Tensor('int64', b.tokenTypeIds, [b.B, b.S]),
      attention_mask: new ort.Tensor('float32', b.mask, [b.B, b.S]),
    };
  }

  private maskFeeds(b: TokenBatch, masks: Map<string, Float32Array> | undefined): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, data] of masks ?? []) {
      out[name] = new ort.Tensor('float32', data, name.endsWith('.probs') ? [b.B, this.cfg.numHeads, b.S, b.S] : [b.B * b.S, this.cfg.hiddenSize]);
    }
    return out;
  }

  /**
   * Training forward: last hidden state and the activations backward() needs. (onnxruntime-node
   * returns every output in a buffer of its own, preallocated fetches or not: nothing to reuse.)
   */
  async forwardTrain(batch: TokenBatch, masks?: Map<string, Float32Array>): Promise<ForwardResult> {
    const out = await this.sessions.train.run({ ...this.inputFeeds(batch), ...this.maskFeeds(batch, masks) });
    const saved: Record<string, Tensor> = {};
    for (const v of savedValues(this.cfg)) saved[v.name] = out[v.name]!;
    return { batch, hidden: out.last_hidden_state!.data as Float32Array, saved, masks };
  }

  /** Evaluation forward: last hidden state [B, S, H]. */
  async forwardEval(batch: TokenBatch): Promise<Float32Array> {
    const out = await this.sessions.eval.run(this.inputFeeds(batch));
    return out.last_hidden_state!.data as Float32Array;
  }

  /**
   * Gradients of the encoder weights given ∂loss/∂last_hidden_state of a training forward:
   * `grad.<name>` for every weight but the embedding tables, and d_embeddings [B·S, H], in the
   * and Σ g² over those weight gradients; each in an array of its own.
   */
  async backward(f: ForwardResult, dHidden: Float32Array): Promise<{ grads: Map<string, Float32Array>; dEmbeddings: Float32Array; sumSquares: number }> {
    const b = f.batch;
    const feeds: Record<string, Tensor> = {
      attention_mask: new ort.Tensor('float32', b.mask, [b.B, b.S]),
      d_last_hidden_state: new ort.Tensor('float32', dHidden, [b.B, b.S, this.cfg.hiddenSize]),
      ...this.maskFeeds(b, f.masks),
      ...f.saved,
    };
    for (const name of this.sessions.backward.inputNames) if (!feeds[name] && this.feeds[name]) feeds[name] = this.feeds[name]!;
    const names = gradientNames(this.cfg);
    const out = await this.sessions.backward.run(feeds);
    const grads = new Map<string, Float32Array>();
    for (const n of names) grads.set(n, out[`grad.${n}`]!.data as Float32Array);
    let sumSquares = 0;
    for (const x of out.grad_sumsq!.data as Float32Array) sumSquares += x;
    return { grads, dEmbeddings: out.d_embeddings!.data as Float32Array, sumSquares };
  }

  /** Inference: embeddings of texts, in order, batched by similar length. */
  async embed(texts: string[], kind?: TextKind, batchSize = 32): Promise<Float32Array[]> {
    const prompt = kind === 'query' ? this.layout.queryPrompt : kind === 'document' ? this.layout.documentPrompt : '';
    const order = texts.map((_, i) => i).sort((a, b) => (prompt + texts[b]!).length - (prompt + texts[a]!).length || a - b);
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const idx = order.slice(i, i + batchSize);
      const batch = this.tokenize(idx.map((j) => texts[j]!), kind);
      const hidden = await this.forwardEval(batch);
      const vecs = poolAndNormalize(hidden, batch.maskRows, batch.B, batch.S, this.dim, this.layout.pooling, this.layout.normalize);
      idx.forEach((j, r) => (out[j] = vecs[r]!));
    }
    return out;
  }

  /** Shape of an encoder weight (name without prefix). */
  shapeOf(name: string): number[] {
    return this.shapes.get(name)!;
  }

  /** Current weights (and untouched extras) by their file names, sorted, as the tfjs encoder writes them. */
  exportTensors(): Map<string, TensorToWrite> {
    const out = new Map<string, TensorToWrite>();
    for (const [name, data] of this.weights) out.set(this.prefix + name, { shape: this.shapes.get(name)!, data });
    for (const [name, t] of this.extras) if (t.dtype === 'F32' || t.dtype === 'F16' || t.dtype === 'BF16' || t.dtype === 'F64') out.set(name, { shape: t.shape, data: t.data });
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Assign weights read from a checkpoint (file names), in place. */
  importTensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
    for (const [name, data] of this.weights) {
      const t = tensors.get(this.prefix + name);
      if (!t || t.shape.join(',') !== this.shapes.get(name)!.join(',')) throw new Error(`${source}: weight ${this.prefix + name} is missing or has another shape`);
      data.set(t.data);
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.sessions.train.release(), this.sessions.eval.release(), this.sessions.backward.release()]);
  }
}

export { EMBEDDING_TABLES };
