/**
 * One optimizer step of the `ort` trainer, with the semantics of the tfjs TrainStep
 * (plugins/backend/tfjs/train-step.ts). Per batch the shared loss seam (core/train/seam.ts)
 * assembles the columns and calls trainColumns: each column (anchors with the query prompt, the
 * others with the document prompt) runs the forward graph in training mode with the dropout masks
 * of its seed; pooling and Normalize run on the host (engine/model/pooling.ts); the seam gives the
 * loss and ∂embeddings; their backward on the host gives ∂last_hidden_state, and the backward graph
 * the weight gradients. Gradient accumulation sums `loss / batches` gradients; then the global norm,
 * optional clipping, the NaN/Inf guard and AdamW on the host weights (word-embedding rows updated
 * sparsely, exactly).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorToWrite } from '../../../core/safetensors.js';
import { normalizeRowsBackward, normalizeRowsHost, poolRows, poolRowsBackward, type PooledRows } from '../../../engine/model/pooling.js';
import { clipCoef } from '../../../engine/train/clip.js';
import { HostAdamW, type HostParam } from '../../../engine/train/host-adamw.js';
import type { ColumnTrainer, GradFn, LossSeam, SeededColumn } from '../../../core/train/seam.js';
import type { AdamWState } from '../../../core/train/optimizer-state.js';
import { hfDecay, NonFiniteLossError, type StepResult } from '../../../core/train/engine.js';
import type { Example } from '../../../core/types.js';
import type { ForwardResult, OrtBertEngine } from './bert-engine.js';
import { dropoutMasks } from './masks.js';

function sumSquares(g: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = g.length & ~1;
  for (let i = 0; i < n; i += 2) {
    s0 += g[i]! * g[i]!;
    s1 += g[i + 1]! * g[i + 1]!;
  }
  if (n < g.length) s0 += g[n]! * g[n]!;
  return s0 + s1;
}

const WORD = 'embeddings.word_embeddings.weight';
const POS = 'embeddings.position_embeddings.weight';
const TYPE = 'embeddings.token_type_embeddings.weight';

/**
 * The tfjs backend the loss maths runs on: tfjs-wasm when available (2–4× less per-op overhead
 * than the pure-JS cpu backend on these [batch, dim] tensors), unless a backend other than `cpu`
 * was chosen already. Returns the backend in use.
 */
export async function prepareHostLoss(): Promise<string> {
  if (tf.getBackend() === 'cpu' || !tf.getBackend()) {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) await tf.ready();
    } catch {
      await tf.setBackend('cpu');
    }
  }
  return tf.getBackend();
}

/** Seconds spent in each part of the last step (for the benchmark). */
export interface StepTimes {
  forward: number;
  loss: number;
  backward: number;
  optimizer: number;
}

/** Weight gradients by name, the word-table rows touched, the longest sequence, the backward graph's Σ g² per call. */
const emptyAccumulators = () => ({ grads: new Map<string, Float32Array>(), touched: new Set<number>(), positions: 0, sumSquares: [] as number[] });

/** A column embedded in training mode, with what its backward needs. */
interface TrainedColumn {
  f: ForwardResult;
  pooled: PooledRows;
  /** The norms of the pooled rows, when the model normalizes. */
  norms?: Float64Array;
  embeddings: Float32Array;
}

export class OrtTrainStep implements ColumnTrainer {
  readonly optimizer: HostAdamW;
  readonly times: StepTimes = { forward: 0, loss: 0, backward: 0, optimizer: 0 };
  /** Dense accumulators of the embedding tables (rows touched this step are zeroed after it). */
  private readonly tableGrads = new Map<string, Float32Array>();
  /** What trainColumns accumulated since gradients() began (besides the embedding tables). */
  private acc = emptyAccumulators();

  constructor(
    readonly engine: OrtBertEngine,
    /** The loss, bound to the run's labels (core/train/seam.ts). */
    readonly seam: LossSeam,
    opt: { lr?: number; betas?: [number, number]; eps?: number; weightDecay: number; decay?: (name: string) => boolean },
  ) {
    tf.enableProdMode(); // the loss runs on tfjs' host backend, as intended: no "install tfjs-node" banner
    const decay = opt.decay ?? hfDecay;
    const params: HostParam[] = [...engine.weights].map(([name, data]) => {
      const file = engine.prefix + name;
      return { name: file, shape: engine.shapeOf(name), data, decay: decay(file), rowSparse: name === WORD };
    });
    this.optimizer = new HostAdamW(params, { betas: opt.betas, eps: opt.eps, weightDecay: opt.weightDecay });
    for (const t of [WORD, POS, TYPE]) this.tableGrads.set(t, new Float32Array(engine.weights.get(t)!.length));
  }

  /** Training forward of one column (dropout masks of its seed), pooled and normalized on the host. */
  private async forwardColumn(col: SeededColumn): Promise<TrainedColumn> {
    const engine = this.engine;
    const { pooling, normalize } = engine.layout;
    const H = engine.dim;
    const batch = engine.tokenize(col.texts, col.kind);
    const dropout = engine.graphOptions.hiddenDropout || engine.graphOptions.attentionDropout;
    const masks = dropout ? dropoutMasks(engine.cfg, batch.B, batch.S, col.seed, pooling === 'cls') : undefined;
    const f = await engine.forwardTrain(batch, masks);
    const pooled = poolRows(f.hidden, batch.mask, batch.B, batch.S, H, pooling);
    if (!normalize) return { f, pooled, embeddings: pooled.values };
    const n = normalizeRowsHost(pooled.values, batch.B, H);
    return { f, pooled, norms: n.norms, embeddings: n.values };
  }

  /** ColumnTrainer: training-mode embeddings, nothing kept (GradCache's first pass). */
  async embedColumns(columns: SeededColumn[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const col of columns) {
      const c = await this.forwardColumn(col);
      c.f.saved = undefined;
      out.push(c.embeddings);
    }
    return out;
  }

  /** ColumnTrainer: forward keeping activations, ∂embeddings from the seam, backward into the accumulators. */
  async trainColumns(columns: SeededColumn[], grad: GradFn): Promise<void> {
    const engine = this.engine;
    const { pooling } = engine.layout;
    const H = engine.dim;
    const t = this.times;
    let t0 = performance.now();
    const fw: TrainedColumn[] = [];
    for (const col of columns) fw.push(await this.forwardColumn(col));
    let t1 = performance.now();
    t.forward += (t1 - t0) / 1000;
    const dEmb = grad(fw.map((c) => c.embeddings));
    t0 = performance.now();
    t.loss += (t0 - t1) / 1000;
    for (let c = 0; c < fw.length; c++) {
      const { f, pooled, norms } = fw[c]!;
      const { B, S, mask } = f.batch;
      const dPooled = norms ? normalizeRowsBackward(dEmb[c]!, pooled.values, norms, B, H) : dEmb[c]!;
      const r = await engine.backward(f, poolRowsBackward(dPooled, pooled, mask, B, S, H, pooling));
      f.saved = undefined;
      this.acc.sumSquares.push(r.sumSquares);
      for (const [name, g] of r.grads) {
        const acc = this.acc.grads.get(name);
        if (!acc) this.acc.grads.set(name, g);
        else for (let i = 0; i < g.length; i++) acc[i] += g[i]!;
      }
      // Scatter-add the gradient at the embedding sum into the three tables.
      const { ids, types } = f.batch;
      const word = this.tableGrads.get(WORD)!;
      const pos = this.tableGrads.get(POS)!;
      const type = this.tableGrads.get(TYPE)!;
      const d = r.dEmbeddings;
      this.acc.positions = Math.max(this.acc.positions, S);
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < S; s++) {
          const row = b * S + s;
          const src = row * H;
          const w = ids[row]! * H;
          const p = s * H;
          const ty = types[row]! * H;
          this.acc.touched.add(ids[row]!);
          for (let k = 0; k < H; k++) {
            const v = d[src + k]!;
            word[w + k] += v;
            pos[p + k] += v;
            type[ty + k] += v;
          }
        }
      }
    }
    t1 = performance.now();
    t.backward += (t1 - t0) / 1000;
  }

  /**
   * One optimizer update from `batches` with learning rate `lr`. Throws NonFiniteLossError (and
   * leaves weights and optimizer untouched) when the loss or the gradient norm is not finite.
   */
  async step(batches: Example[][], lr: number, maxGradNorm = 0, seeds: number[] = []): Promise<StepResult> {
    const { loss, grads, touched, positions, graphSumSquares } = await this.gradients(batches, seeds);
    const engine = this.engine;
    const H = engine.dim;
    const WORD_FILE = engine.prefix + WORD;
    const t0 = performance.now();
    // Σ g²: the backward graph's own sums when one backward made the gradients, else one host pass;
    // the embedding tables (accumulated here) always on the host, the word table over its touched rows.
    let sq = graphSumSquares ?? 0;
    const tables = new Set([WORD, POS, TYPE].map((t) => engine.prefix + t));
    for (const [name, g] of grads) {
      if (name === WORD_FILE) {
        for (const r of touched) for (let i = r * H; i < r * H + H; i++) sq += g[i]! * g[i]!;
      } else if (graphSumSquares === undefined || tables.has(name)) sq += sumSquares(g);
    }
    const gradNorm = Math.sqrt(sq);
    try {
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteLossError(loss, gradNorm);
      this.optimizer.step(grads, lr, maxGradNorm > 0 ? clipCoef(gradNorm, maxGradNorm) : 1, new Map([[WORD_FILE, touched]]));
    } finally {
      this.clearTables(touched, positions);
      this.times.optimizer = (performance.now() - t0) / 1000;
    }
    return { loss, gradNorm };
  }

  /** Zero the embedding-table accumulators after a step (only the rows written). */
  clearTables(touched: Iterable<number>, positions: number): void {
    const H = this.engine.dim;
    const word = this.tableGrads.get(WORD)!;
    for (const r of touched) word.fill(0, r * H, r * H + H);
    this.tableGrads.get(POS)!.fill(0, 0, positions * H);
    this.tableGrads.get(TYPE)!.fill(0);
  }

  /**
   * Mean loss of `batches` and the gradients of Σ loss/batches by weight file name. The three
   * embedding tables' gradients are accumulators owned by this object: call clearTables(touched,
   * positions) before the next call.
   */
  async gradients(batches: Example[][], seeds: number[] = []): Promise<{ loss: number; grads: Map<string, Float32Array>; touched: Set<number>; positions: number; graphSumSquares?: number }> {
    if (batches.length === 0) throw new Error('OrtTrainStep.step: no batches');
    const engine = this.engine;
    const scale = 1 / batches.length;
    const t = this.times;
    t.forward = t.loss = t.backward = t.optimizer = 0;
    this.acc = emptyAccumulators();
    let lossSum = 0;
    for (let bi = 0; bi < batches.length; bi++) lossSum += await this.seam.backward(this, batches[bi]!, seeds[bi] ?? bi, scale);
    const { grads, touched, positions, sumSquares } = this.acc;
    this.acc = emptyAccumulators();
    const all = new Map<string, Float32Array>();
    for (const [name, g] of grads) all.set(engine.prefix + name, g);
    for (const [name, g] of this.tableGrads) all.set(engine.prefix + name, g);
    return { loss: lossSum / batches.length, grads: all, touched, positions, ...(sumSquares.length === 1 ? { graphSumSquares: sumSquares[0]! } : {}) };
  }

  /** Inference embeddings of the current weights (evaluation during training). */
  embed(texts: string[], kind?: 'query' | 'document', batchSize?: number): Promise<Float32Array[]> {
    return this.engine.embed(texts, kind, batchSize);
  }

  exportWeights(): Map<string, TensorToWrite> {
    return this.engine.exportTensors();
  }

  importWeights(tensors: Map<string, { shape: number[]; data: Float32Array }>, source: string): void {
    this.engine.importTensors(tensors, source);
  }

  exportOptimizer(): AdamWState {
    return this.optimizer.getState();
  }

  importOptimizer(state: AdamWState): void {
    this.optimizer.setState(state);
  }
}
