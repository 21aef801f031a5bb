/**
 * One optimizer step of the `ort` trainer, with the semantics of the tfjs TrainStep
 * (plugins/backend/tfjs/train-step.ts): per batch, each loss column (anchors with the query prompt, the others
 * with the document prompt) runs the forward graph in training mode with the dropout masks of
 * its seed; the loss plugin's reference implementation gives the loss and its gradient on the
 * last hidden states (pooling, Normalize and the loss are small [batch, dim] maths, run on tfjs'
 * host backend); the backward graph gives the weight gradients. Gradient accumulation sums
 * `loss / batches` gradients; then the global norm, optional clipping, the NaN/Inf guard and
 * AdamW on the host weights (word-embedding rows updated sparsely, exactly).
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorToWrite } from '../../../core/safetensors.js';
import type { PoolingMode } from '../../../core/model/pooling.js';
import { clipCoef } from '../../../core/train/clip.js';
import { HostAdamW, type HostParam } from '../../../core/train/host-adamw.js';
import { normalizeRows, textColumns, type LossBatch, type LossPlugin } from '../../../core/train/loss.js';
import type { AdamWState } from '../../../core/train/optim.js';
import { hfDecay, NonFiniteLossError, type StepResult } from '../../../core/train/engine.js';
import type { Example } from '../../../core/types.js';
import type { ForwardResult, OrtBertEngine } from './bert-engine.js';
import { dropoutMasks } from './masks.js';

/** Pooled [B, H] vectors (before Normalize); for max pooling, the row each value came from. */
interface Pooled {
  values: Float32Array;
  argmax?: Int32Array;
}

/** sentence-transformers Pooling over last_hidden_state [B, S, H] (mask 0/1 [B, S]). */
function poolHost(hidden: Float32Array, mask: Float32Array, B: number, S: number, H: number, mode: PoolingMode): Pooled {
  const values = new Float32Array(B * H);
  if (mode === 'cls') {
    for (let b = 0; b < B; b++) values.set(hidden.subarray(b * S * H, b * S * H + H), b * H);
    return { values };
  }
  if (mode === 'mean') {
    const acc = new Float64Array(H);
    for (let b = 0; b < B; b++) {
      acc.fill(0);
      let count = 0;
      for (let s = 0; s < S; s++) {
        if (!mask[b * S + s]) continue;
        count++;
        const off = (b * S + s) * H;
        for (let k = 0; k < H; k++) acc[k] += hidden[off + k]!;
      }
      const d = Math.max(count, 1e-9);
      for (let k = 0; k < H; k++) values[b * H + k] = acc[k]! / d;
    }
    return { values };
  }
  const argmax = new Int32Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < H; k++) {
      let best = -Infinity;
      let at = 0;
      for (let s = 0; s < S; s++) {
        const v = mask[b * S + s] ? hidden[(b * S + s) * H + k]! : -1e9;
        if (v > best) (best = v), (at = s);
      }
      values[b * H + k] = best;
      argmax[b * H + k] = at;
    }
  }
  return { values, argmax };
}

/** The gradient at last_hidden_state [B, S, H] of the gradient at the pooled vectors [B, H]. */
function unpoolHost(g: Float32Array, p: Pooled, mask: Float32Array, B: number, S: number, H: number, mode: PoolingMode): Float32Array {
  const out = new Float32Array(B * S * H);
  for (let b = 0; b < B; b++) {
    const gb = g.subarray(b * H, b * H + H);
    if (mode === 'cls') out.set(gb, b * S * H);
    else if (mode === 'mean') {
      let count = 0;
      for (let s = 0; s < S; s++) count += mask[b * S + s] ? 1 : 0;
      const d = Math.max(count, 1e-9);
      for (let s = 0; s < S; s++) {
        if (!mask[b * S + s]) continue;
        const off = (b * S + s) * H;
        for (let k = 0; k < H; k++) out[off + k] = gb[k]! / d;
      }
    } else {
      // max pooling: the gradient goes to the token each maximum came from.
      for (let k = 0; k < H; k++) out[(b * S + p.argmax![b * H + k]!) * H + k] = gb[k]!;
    }
  }
  return out;
}

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

export class OrtTrainStep {
  readonly labelIds: Map<string, number>;
  readonly optimizer: HostAdamW;
  readonly times: StepTimes = { forward: 0, loss: 0, backward: 0, optimizer: 0 };
  /** Dense accumulators of the embedding tables (rows touched this step are zeroed after it). */
  private readonly tableGrads = new Map<string, Float32Array>();

  constructor(
    readonly engine: OrtBertEngine,
    readonly loss: LossPlugin,
    opt: { lr?: number; betas?: [number, number]; eps?: number; weightDecay: number; decay?: (name: string) => boolean },
    labels: Iterable<string> = [],
  ) {
    this.labelIds = new Map([...new Set(labels)].sort().map((l, i) => [l, i]));
    tf.enableProdMode(); // the loss runs on tfjs' host backend, as intended: no "install tfjs-node" banner
    const decay = opt.decay ?? hfDecay;
    const params: HostParam[] = [...engine.weights].map(([name, data]) => {
      const file = engine.prefix + name;
      return { name: file, shape: engine.shapeOf(name), data, decay: decay(file), rowSparse: name === WORD };
    });
    this.optimizer = new HostAdamW(params, { betas: opt.betas, eps: opt.eps, weightDecay: opt.weightDecay });
    for (const t of [WORD, POS, TYPE]) this.tableGrads.set(t, new Float32Array(engine.weights.get(t)!.length));
  }

  /**
   * Loss (scaled by `scale`) and ∂/∂last_hidden_state of each column. Pooling and its backward
   * run here on the host; Normalize and the loss — the loss plugin's reference implementation —
   * on tfjs' host backend over [batch, dim] only.
   */
  private lossGrad(cols: ForwardResult[], extra: { labels?: number[]; pairLabels?: number[] }, scale: number): { loss: number; grads: Float32Array[] } {
    const { pooling, normalize } = this.engine.layout;
    const H = this.engine.dim;
    const pooled = cols.map((c) => poolHost(c.hidden, c.batch.mask, c.batch.B, c.batch.S, H, pooling));
    const { loss, grads } = tf.tidy(() => {
      const f = (...p: tf.Tensor[]): tf.Scalar => {
        const emb = (i: number): tf.Tensor2D => (normalize ? normalizeRows(p[i] as tf.Tensor2D) : (p[i] as tf.Tensor2D));
        const batch: LossBatch = { anchor: emb(0) };
        if (cols.length > 1) batch.positive = emb(1);
        if (cols.length > 2) batch.negative = emb(2);
        if (extra.labels) batch.labels = tf.tensor1d(extra.labels, 'int32');
        if (extra.pairLabels) batch.pairLabels = tf.tensor1d(extra.pairLabels, 'float32');
        const l = this.loss.compute(batch);
        return scale === 1 ? l : tf.mul(l, scale);
      };
      const { value, grads } = tf.valueAndGrads(f)(pooled.map((p, i) => tf.tensor2d(p.values, [cols[i]!.batch.B, H])));
      const v = value.dataSync()[0]!;
      return { loss: scale === 1 ? v : v / scale, grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
    return { loss, grads: cols.map((c, i) => unpoolHost(grads[i]!, pooled[i]!, c.batch.mask, c.batch.B, c.batch.S, H, pooling)) };
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
    const cfg = engine.cfg;
    const H = cfg.hiddenSize;
    const scale = 1 / batches.length;
    const grads = new Map<string, Float32Array>();
    const touched = new Set<number>();
    const usedPositions = { n: 0 };
    const clsLast = engine.layout.pooling === 'cls';
    const dropout = engine.graphOptions.hiddenDropout || engine.graphOptions.attentionDropout;
    const t = this.times;
    t.forward = t.loss = t.backward = t.optimizer = 0;
    let lossSum = 0;
    const backwards: number[] = [];
    for (let bi = 0; bi < batches.length; bi++) {
      const cols = textColumns(this.loss.needs, batches[bi]!, this.labelIds);
      const texts: Array<[string[], 'query' | 'document']> = [[cols.anchor, 'query']];
      if (cols.positive) texts.push([cols.positive, 'document']);
      if (cols.negative) texts.push([cols.negative, 'document']);
      const seed = seeds[bi] ?? bi;
      let t0 = performance.now();
      const fw: ForwardResult[] = [];
      for (let c = 0; c < texts.length; c++) {
        const batch = engine.tokenize(texts[c]![0], texts[c]![1]);
        const masks = dropout ? dropoutMasks(cfg, batch.B, batch.S, (seed + 0x9e3779b9 * c) >>> 0, clsLast) : undefined;
        fw.push(await engine.forwardTrain(batch, masks));
      }
      let t1 = performance.now();
      t.forward += (t1 - t0) / 1000;
      const { loss, grads: dHidden } = this.lossGrad(fw, { labels: cols.labels, pairLabels: cols.pairLabels }, scale);
      lossSum += loss;
      t0 = performance.now();
      t.loss += (t0 - t1) / 1000;
      for (let c = 0; c < fw.length; c++) {
        const f = fw[c]!;
        const first = grads.size === 0;
        const r = await engine.backward(f, dHidden[c]!);
        backwards.push(r.sumSquares);
        for (const [name, g] of r.grads) {
          if (first) grads.set(name, g);
          else {
            const acc = grads.get(name)!;
            for (let i = 0; i < g.length; i++) acc[i] += g[i]!;
          }
        }
        // Scatter-add the gradient at the embedding sum into the three tables.
        const { ids, types, B, S } = f.batch;
        const word = this.tableGrads.get(WORD)!;
        const pos = this.tableGrads.get(POS)!;
        const type = this.tableGrads.get(TYPE)!;
        const d = r.dEmbeddings;
        usedPositions.n = Math.max(usedPositions.n, S);
        for (let b = 0; b < B; b++) {
          for (let s = 0; s < S; s++) {
            const row = b * S + s;
            const src = row * H;
            const w = ids[row]! * H;
            const p = s * H;
            const ty = types[row]! * H;
            touched.add(ids[row]!);
            for (let k = 0; k < H; k++) {
              const v = d[src + k]!;
              word[w + k] += v;
              pos[p + k] += v;
              type[ty + k] += v;
            }
          }
        }
        f.saved = undefined;
      }
      t1 = performance.now();
      t.backward += (t1 - t0) / 1000;
    }
    const all = new Map<string, Float32Array>();
    for (const [name, g] of grads) all.set(engine.prefix + name, g);
    for (const [name, g] of this.tableGrads) all.set(engine.prefix + name, g);
    return { loss: lossSum / batches.length, grads: all, touched, positions: usedPositions.n, ...(backwards.length === 1 ? { graphSumSquares: backwards[0]! } : {}) };
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
