/**
 * AdamW exactly as torch.optim.AdamW (single-tensor CPU path, torch 2.x) on tfjs variables:
 *
 *   step ← step + 1                                   (per parameter, like torch's state['step'])
 *   p ← p · (1 − lr·wd)                               (decoupled weight decay)
 *   m ← lerp(m, g, 1 − β1)                            (m + w·(g − m) for w < 0.5, else g − (g − m)·(1 − w))
 *   v ← v·β2 + (1 − β2)·g·g
 *   denom ← √v / √(1 − β2^step) + eps
 *   p ← p − (lr / (1 − β1^step)) · m / denom
 *
 * Scalars are computed in float64 (as Python floats in torch) and applied in float32. A parameter is
 * updated (and decayed) only when it receives a gradient; a dense gradient with zero rows still decays
 * the whole tensor. State (m, v, step per parameter) round-trips through getState()/setState().
 *
 * Row-sparse parameters (`rowSparse`, e.g. a word-embedding table whose gradient is zero outside the
 * batch's tokens): rows that have never had a nonzero gradient have m = v = 0, where the formula above
 * reduces to p ← p·(1 − lr·wd) (the Adam step is a signed zero); only the rows ever touched go through
 * the full update (gathered, updated, scattered back), which saves a dozen passes over the table.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { AdamWParamState, AdamWState, OptimizerHyper } from '../../core/train/optimizer-state.js';

/** The optimizer state of checkpoints (core/train/optimizer-state.ts), re-exported for the users of AdamW. */
export type { AdamWParamState, AdamWState, OptimizerHyper } from '../../core/train/optimizer-state.js';

export interface AdamWConfig {
  lr: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay (torch's default 0.01). */
  weightDecay?: number;
  /** Which parameters get weight decay (default: all, as torch). */
  decay?: (name: string) => boolean;
  /** 2-D parameters whose gradients are mostly zero rows (embedding tables); see the header. */
  rowSparse?: (name: string) => boolean;
}

interface Slot {
  step: number;
  m: tf.Variable;
  v: tf.Variable;
  /** Row-sparse parameters: 1 for each row that has had a nonzero gradient (or moment). */
  touched?: Uint8Array;
}

export class AdamW {
  /** The learning rate used by step() when none is passed (set it from a schedule). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decay: (name: string) => boolean;
  private readonly rowSparse: (name: string) => boolean;
  private readonly params = new Map<string, tf.Variable>();
  private readonly slots = new Map<string, Slot>();

  constructor(params: tf.Variable[], cfg: AdamWConfig) {
    this.lr = cfg.lr;
    [this.beta1, this.beta2] = cfg.betas ?? [0.9, 0.999];
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0.01;
    this.decay = cfg.decay ?? (() => true);
    this.rowSparse = cfg.rowSparse ?? (() => false);
    for (const p of params) {
      if (this.params.has(p.name)) throw new Error(`AdamW: duplicate parameter name ${p.name}`);
      this.params.set(p.name, p);
    }
  }

  /** Number of updates of the parameter that has been updated most (0 before the first step). */
  get stepCount(): number {
    let n = 0;
    for (const s of this.slots.values()) n = Math.max(n, s.step);
    return n;
  }

  /**
   * One update. `grads` maps parameter names to gradients (as tf.variableGrads returns them); parameters
   * without an entry are left untouched, like torch parameters whose .grad is None. `gradScale` (e.g. a
   * clipping coefficient) multiplies every gradient first, exactly as tf.mul(g, gradScale) would.
   */
  step(grads: Record<string, tf.Tensor | undefined>, lr: number = this.lr, gradScale = 1): void {
    for (const name of Object.keys(grads)) {
      if (!this.params.has(name)) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
    }
    const [b1, b2] = [this.beta1, this.beta2];
    const w = 1 - b1;
    for (const [name, p] of this.params) {
      const g0 = grads[name];
      if (!g0) continue;
      const slot = this.slot(name, p);
      slot.step += 1;
      const stepSize = lr / (1 - b1 ** slot.step);
      const bc2Sqrt = Math.sqrt(1 - b2 ** slot.step);
      const wd = this.weightDecay !== 0 && this.decay(name) ? 1 - lr * this.weightDecay : 1;
      const rows = this.touchedRows(name, slot, g0);
      tf.tidy(() => {
        if (rows) {
          // Rows never touched: decay only; touched rows: the formula below on the gathered rows.
          const [R, H] = p.shape as [number, number];
          const ids = tf.tensor2d(rows, [rows.length, 1], 'int32');
          const at = (t: tf.Tensor) => tf.gatherND(t, ids) as tf.Tensor2D;
          const gr = gradScale === 1 ? at(g0) : tf.mul(at(g0), gradScale);
          const mr = at(slot.m);
          const vr = at(slot.v);
          const m = w < 0.5 ? tf.add(mr, tf.mul(tf.sub(gr, mr), w)) : tf.sub(gr, tf.mul(tf.sub(gr, mr), 1 - w));
          const v = tf.add(tf.mul(vr, b2), tf.mul(tf.mul(gr, 1 - b2), gr));
          const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
          const move = tf.div(tf.mul(m, -stepSize), denom);
          slot.m.assign(tf.scatterND(ids, m, [R, H]));
          slot.v.assign(tf.scatterND(ids, v, [R, H]));
          p.assign(tf.add(wd === 1 ? p : tf.mul(p, wd), tf.scatterND(ids, move, [R, H])));
          return;
        }
        const g = gradScale === 1 ? g0 : tf.mul(g0, gradScale);
        const decayed = wd === 1 ? p : tf.mul(p, wd);
        const m = w < 0.5 ? tf.add(slot.m, tf.mul(tf.sub(g, slot.m), w)) : tf.sub(g, tf.mul(tf.sub(g, slot.m), 1 - w));
        const v = tf.add(tf.mul(slot.v, b2), tf.mul(tf.mul(g, 1 - b2), g));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps);
        slot.m.assign(m);
        slot.v.assign(v);
        p.assign(tf.add(decayed, tf.div(tf.mul(m, -stepSize), denom)));
      });
    }
  }

  /**
   * For a row-sparse parameter, the rows to update in full (ever touched, this gradient's nonzero rows
   * included), ascending; undefined for the dense update (other parameters, or most rows touched).
   */
  private touchedRows(name: string, slot: Slot, g: tf.Tensor): Int32Array | undefined {
    const p = this.params.get(name)!;
    if (p.rank !== 2 || !this.rowSparse(name)) return undefined;
    const R = p.shape[0]!;
    const touched = (slot.touched ??= new Uint8Array(R));
    const nonzero = tf.tidy(() => tf.any(tf.notEqual(g, 0), 1).dataSync());
    let n = 0;
    for (let r = 0; r < R; r++) {
      if (nonzero[r]) touched[r] = 1;
      n += touched[r]!;
    }
    if (n > R / 2) return undefined;
    const rows = new Int32Array(n);
    for (let r = 0, k = 0; r < R; r++) if (touched[r]) rows[k++] = r;
    return rows;
  }

  getState(): AdamWState {
    return {
      params: [...this.slots].map(([name, s]) => ({
        name,
        shape: [...s.m.shape],
        step: s.step,
        m: Float32Array.from(s.m.dataSync()),
        v: Float32Array.from(s.v.dataSync()),
      })),
    };
  }

  setState(state: AdamWState): void {
    for (const s of state.params) {
      const p = this.params.get(s.name);
      if (!p) throw new Error(`AdamW state: unknown parameter ${s.name}`);
      if (p.shape.join(',') !== s.shape.join(',') || s.m.length !== p.size || s.v.length !== p.size) {
        throw new Error(`AdamW state: ${s.name} has shape [${s.shape}], parameter has [${p.shape}]`);
      }
    }
    this.disposeSlots();
    for (const s of state.params) {
      const shape = this.params.get(s.name)!.shape;
      this.slots.set(s.name, {
        step: s.step,
        m: tf.tidy(() => tf.variable(tf.tensor(s.m, shape, 'float32'), false)),
        v: tf.tidy(() => tf.variable(tf.tensor(s.v, shape, 'float32'), false)),
        touched: shape.length === 2 && this.rowSparse(s.name) ? nonzeroRows(s, shape[0]!) : undefined,
      });
    }
  }

  dispose(): void {
    this.disposeSlots();
  }

  private slot(name: string, p: tf.Variable): Slot {
    let s = this.slots.get(name);
    if (!s) {
      s = {
        step: 0,
        m: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        v: tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
      };
      this.slots.set(name, s);
    }
    return s;
  }

  private disposeSlots(): void {
    for (const s of this.slots.values()) tf.dispose([s.m, s.v]);
    this.slots.clear();
  }
}

/** Rows of a 2-D state with any nonzero moment. */
function nonzeroRows(s: AdamWParamState, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  const width = s.m.length / rows;
  for (let i = 0; i < s.m.length; i++) if (s.m[i] !== 0 || s.v[i] !== 0) out[Math.floor(i / width)] = 1;
  return out;
}
