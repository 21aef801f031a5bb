/**
 * AdamW on host Float32Arrays, updated in place: the same update as engine/train/optim.ts
 * (torch.optim.AdamW, single-tensor path; see there for the formula), for training engines that
 * keep their weights on the host (the `ort` trainer). Scalars are float64, elements float32.
 * The state is the same AdamWState (checkpoints written by one engine load in the other).
 *
 * Row-sparse parameters (word-embedding tables): rows that never had a nonzero gradient have
 * m = v = 0, where the update reduces to p ← p·(1 − lr·wd); only rows ever touched get the full
 * update. `rows` of step() lists the rows of such a parameter that this gradient touches.
 */
import type { AdamWParamState, AdamWState } from '../../core/train/optimizer-state.js';

export interface HostParam {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Weight decay applies (torch: every parameter; HF Trainer: not biases / LayerNorm). */
  decay: boolean;
  /** A 2-D table whose gradients are mostly zero rows. */
  rowSparse: boolean;
}

interface Slot {
  step: number;
  m: Float32Array;
  v: Float32Array;
  touched?: Uint8Array;
}

export class HostAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly params = new Map<string, HostParam>();
  private readonly slots = new Map<string, Slot>();

  constructor(params: HostParam[], cfg: { betas?: [number, number]; eps?: number; weightDecay?: number }) {
    [this.beta1, this.beta2] = cfg.betas ?? [0.9, 0.999];
    this.eps = cfg.eps ?? 1e-8;
    this.weightDecay = cfg.weightDecay ?? 0.01;
    for (const p of params) {
      if (this.params.has(p.name)) throw new Error(`AdamW: duplicate parameter name ${p.name}`);
      this.params.set(p.name, p);
    }
  }

  /**
   * One update of every parameter with a gradient in `grads` (others untouched, like torch
   * parameters whose .grad is None); each gradient is multiplied by `gradScale` first. For a
   * row-sparse parameter, `touchedRows.get(name)` lists the rows with a nonzero gradient.
   */
  step(grads: Map<string, Float32Array>, lr: number, gradScale = 1, touchedRows: Map<string, Iterable<number>> = new Map()): void {
    const b1 = this.beta1;
    const b2 = this.beta2;
    const w = 1 - b1;
    const eps = this.eps;
    for (const [name, g] of grads) {
      const p = this.params.get(name);
      if (!p) throw new Error(`AdamW: gradient for unknown parameter ${name}`);
      if (g.length !== p.data.length) throw new Error(`AdamW: gradient of ${name} has ${g.length} values, parameter ${p.data.length}`);
      const slot = this.slot(p);
      slot.step += 1;
      const stepSize = lr / (1 - b1 ** slot.step);
      const bc2Sqrt = Math.sqrt(1 - b2 ** slot.step);
      const wd = this.weightDecay !== 0 && p.decay ? 1 - lr * this.weightDecay : 1;
      const { m, v } = slot;
      const x = p.data;
      const update = (from: number, to: number): void => adamwRange(x, g, m, v, from, to, gradScale, w, b2, wd, stepSize, bc2Sqrt, eps);
      if (p.rowSparse && p.shape.length === 2) {
        const width = p.shape[1]!;
        const touched = (slot.touched ??= new Uint8Array(p.shape[0]!));
        for (const r of touchedRows.get(name) ?? []) touched[r] = 1;
        for (let r = 0; r < touched.length; r++) {
          const from = r * width;
          if (touched[r]) update(from, from + width);
          else if (wd !== 1) for (let i = from; i < from + width; i++) x[i] = x[i]! * wd;
        }
      } else update(0, x.length);
    }
  }

  getState(): AdamWState {
    return { params: [...this.slots].map(([name, s]) => ({ name, shape: [...this.params.get(name)!.shape], step: s.step, m: s.m.slice(), v: s.v.slice() })) };
  }

  setState(state: AdamWState): void {
    for (const s of state.params) {
      const p = this.params.get(s.name);
      if (!p) throw new Error(`AdamW state: unknown parameter ${s.name}`);
      if (p.shape.join(',') !== s.shape.join(',') || s.m.length !== p.data.length || s.v.length !== p.data.length) {
        throw new Error(`AdamW state: ${s.name} has shape [${s.shape}], parameter has [${p.shape}]`);
      }
    }
    this.slots.clear();
    for (const s of state.params) {
      const p = this.params.get(s.name)!;
      this.slots.set(s.name, { step: s.step, m: Float32Array.from(s.m), v: Float32Array.from(s.v), touched: p.rowSparse && p.shape.length === 2 ? nonzeroRows(s, p.shape[0]!) : undefined });
    }
  }

  private slot(p: HostParam): Slot {
    let s = this.slots.get(p.name);
    if (!s) {
      s = { step: 0, m: new Float32Array(p.data.length), v: new Float32Array(p.data.length) };
      this.slots.set(p.name, s);
    }
    return s;
  }
}

/**
 * The element-wise update on [from, to), one tight loop (monomorphic Float32Array accesses):
 * m ← lerp(m, g, w) (torch's two forms), v ← β2·v + (1 − β2)·g², p ← p·wd − stepSize·m / (√v / √bc2 + eps).
 */
function adamwRange(
  x: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, from: number, to: number,
  gradScale: number, w: number, b2: number, wd: number, stepSize: number, bc2Sqrt: number, eps: number,
): void {
  const c2 = 1 - b2;
  const invBc2 = 1 / bc2Sqrt;
  if (w < 0.5) {
    for (let i = from; i < to; i++) {
      const gi = g[i]! * gradScale;
      const mo = m[i]!;
      const mi = Math.fround(mo + (gi - mo) * w);
      const vi = Math.fround(v[i]! * b2 + c2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      x[i] = x[i]! * wd - (stepSize * mi) / (Math.sqrt(vi) * invBc2 + eps);
    }
  } else {
    const w1 = 1 - w;
    for (let i = from; i < to; i++) {
      const gi = g[i]! * gradScale;
      const mi = Math.fround(gi - (gi - m[i]!) * w1);
      const vi = Math.fround(v[i]! * b2 + c2 * gi * gi);
      m[i] = mi;
      v[i] = vi;
      x[i] = x[i]! * wd - (stepSize * mi) / (Math.sqrt(vi) * invBc2 + eps);
    }
  }
}

function nonzeroRows(s: AdamWParamState, rows: number): Uint8Array {
  const out = new Uint8Array(rows);
  const width = s.m.length / rows;
  for (let i = 0; i < s.m.length; i++) if (s.m[i] !== 0 || s.v[i] !== 0) out[Math.floor(i / width)] = 1;
  return out;
}
