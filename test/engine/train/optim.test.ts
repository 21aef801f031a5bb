import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW } from '../../../engine/train/optim.js';

/**
 * torch.optim.AdamW's single-tensor update (torch/optim/adam.py, decoupled weight decay) written out by
 * hand, element by element. With `f32` every tensor operation is rounded to float32 as torch does on CPU
 * (Python-float scalars are converted to float32 when applied); otherwise it runs in float64.
 */
function torchAdamW(
  p: number[],
  grads: (p: number[], f: (x: number) => number) => number[],
  steps: number,
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
  f32 = true,
): number[] {
  const f = f32 ? Math.fround : (x: number) => x;
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  let x = p.map(f);
  for (let t = 1; t <= steps; t++) {
    const g = grads(x, f);
    x = x.map((xi) => f(xi * f(1 - o.lr * o.wd))); // param.mul_(1 - lr * weight_decay)
    g.forEach((gi, i) => {
      m[i] = f(m[i]! + f(f(1 - o.b1) * f(gi - m[i]!))); // exp_avg.lerp_(grad, 1 - beta1), weight < 0.5
      v[i] = f(f(v[i]! * f(o.b2)) + f(f(f(1 - o.b2) * gi) * gi)); // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    });
    const stepSize = o.lr / (1 - o.b1 ** t); // Python floats
    const bc2Sqrt = (1 - o.b2 ** t) ** 0.5;
    x = x.map((xi, i) => {
      const denom = f(f(f(Math.sqrt(v[i]!)) / f(bc2Sqrt)) + f(o.eps)); // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
      return f(xi + f(f(f(-stepSize) * m[i]!) / denom)); // param.addcdiv_(exp_avg, denom, value=-step_size)
    });
  }
  return x;
}

// A small quadratic: loss = Σ c_i (x_i − t_i)², gradient 2 c_i (x_i − t_i).
const C = [1, 0.5, 3, 0.1, 2, 1.5];
const T = [0.3, -1, 2, 0.5, 0, -0.25];
const X0 = [1, 0.5, -1, 2, 0.25, 0];
const quadGrad = (x: number[], f: (x: number) => number = (y) => y): number[] =>
  x.map((xi, i) => f(f(C[i]!) * 2 * f(xi - f(T[i]!))));

function tfGrads(p: tf.Variable): Record<string, tf.Tensor> {
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(tf.tensor(C, [2, 3]), tf.square(tf.sub(p, tf.tensor(T, [2, 3]))))) as tf.Scalar,
    [p],
  );
  value.dispose();
  return grads;
}

function run(steps: number, cfg: { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number }): number[] {
  const p = tf.variable(tf.tensor(X0, [2, 3]), true, `x${Math.random()}`);
  const opt = new AdamW([p], cfg);
  for (let s = 0; s < steps; s++) {
    const g = tfGrads(p);
    opt.step(g);
    tf.dispose(Object.values(g));
  }
  const out = Array.from(p.dataSync());
  opt.dispose();
  p.dispose();
  return out;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('first step is p·(1 − lr·wd) − lr·g/(|g| + eps) (bias-corrected moments equal g and g²)', () => {
    const got = run(1, { lr: 0.1, weightDecay: 0.01 });
    const g = quadGrad(X0);
    X0.forEach((x, i) => expect(got[i]).toBeCloseTo(x * (1 - 0.001) - (0.1 * g[i]!) / (Math.abs(g[i]!) + 1e-8), 6));
  });

  it.each([
    { lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01 },
    { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-6, wd: 0.1 },
    { lr: 0.02, b1: 0.3, b2: 0.9, eps: 1e-8, wd: 0 }, // β1 < 0.5: torch's other lerp branch
  ])('matches the hand-written torch update over 8 steps on a quadratic within 1e-6 (%o)', (o) => {
    const got = run(8, { lr: o.lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd });
    const want = torchAdamW(X0, quadGrad, 8, o);
    got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6)); // in practice bit-identical
    // And close to the exact (float64) trajectory: float32 rounding only.
    const exact = torchAdamW(X0, quadGrad, 8, o, false);
    got.forEach((v, i) => expect(Math.abs(v - exact[i]!)).toBeLessThan(1e-5));
    // The optimisation moved: this test cannot pass with a no-op optimizer.
    expect(Math.abs(got[0]! - X0[0]!)).toBeGreaterThan(0.1);
  });

  it('decays a parameter whose gradient is zero, skips one without a gradient, honours the decay filter', () => {
    const a = tf.variable(tf.ones([3]), true, 'opt_a');
    const b = tf.variable(tf.ones([3]), true, 'opt_b');
    const c = tf.variable(tf.ones([3]), true, 'opt_c.bias');
    const opt = new AdamW([a, b, c], { lr: 0.1, weightDecay: 0.5, decay: (n) => !n.endsWith('.bias') });
    const zero = tf.zeros([3]);
    opt.step({ opt_a: zero, 'opt_c.bias': zero });
    expect(Array.from(a.dataSync())).toEqual([0.95, 0.95, 0.95].map(Math.fround)); // decay only: m = 0 → no Adam move
    expect(Array.from(b.dataSync())).toEqual([1, 1, 1]); // no gradient: untouched
    expect(Array.from(c.dataSync())).toEqual([1, 1, 1]); // excluded from decay, zero gradient
    expect(opt.getState().params.map((p) => [p.name, p.step])).toEqual([
      ['opt_a', 1],
      ['opt_c.bias', 1],
    ]);
    expect(() => opt.step({ nope: zero })).toThrow(/unknown parameter nope/);
    opt.dispose();
    tf.dispose([a, b, c, zero]);
  });

  it('resumes from exported state exactly like an uninterrupted run', () => {
    const straight = run(6, { lr: 0.1 });
    const p = tf.variable(tf.tensor(X0, [2, 3]), true, 'resume_x');
    let opt = new AdamW([p], { lr: 0.1 });
    for (let s = 0; s < 6; s++) {
      if (s === 3) {
        const state = opt.getState();
        const weights = Float32Array.from(p.dataSync());
        opt.dispose();
        p.assign(tf.zeros([2, 3])); // clobber, then restore as a checkpoint would
        p.assign(tf.tensor(weights, [2, 3]));
        opt = new AdamW([p], { lr: 0.1 });
        opt.setState(structuredClone(state));
        expect(opt.stepCount).toBe(3);
      }
      const g = tfGrads(p);
      opt.step(g);
      tf.dispose(Object.values(g));
    }
    expect(Array.from(p.dataSync())).toEqual(straight);
    expect(() => opt.setState({ params: [{ name: 'resume_x', shape: [3], step: 1, m: new Float32Array(3), v: new Float32Array(3) }] })).toThrow(
      /shape/,
    );
    opt.dispose();
    p.dispose();
  });

  it('gradScale gives bit for bit the update of the pre-multiplied gradient (fused clipping)', () => {
    const coef = Math.fround(0.37);
    const finals = [true, false].map((fused) => {
      const p = tf.variable(tf.tensor(X0, [2, 3]), true, `scale_${fused}`);
      const opt = new AdamW([p], { lr: 0.1 });
      for (let s = 0; s < 3; s++) {
        const g = tfGrads(p);
        const k = Object.keys(g)[0]!;
        if (fused) opt.step({ [`scale_${fused}`]: g[k] }, 0.1, coef);
        else tf.tidy(() => opt.step({ [`scale_${fused}`]: tf.mul(g[k]!, coef) }, 0.1));
        tf.dispose(Object.values(g));
      }
      const out = { p: Array.from(p.dataSync()), m: Array.from(opt.getState().params[0]!.m) };
      opt.dispose();
      p.dispose();
      return out;
    });
    expect(finals[0]).toEqual(finals[1]);
  });

  it('row-sparse parameters (embedding tables) get bit for bit the dense update, across a resume', async () => {
    const rowsOf = (step: number): number[] => [[1], [1, 4], [], [7], [2, 4]][step]!; // rows with a gradient
    const run = (sparse: boolean): { p: number[]; m: number[]; v: number[] } => {
      const name = `emb_${sparse}`;
      const p = tf.variable(tf.tensor(Array.from({ length: 30 }, (_, i) => Math.sin(i + 1)), [10, 3]), true, name);
      let opt = new AdamW([p], { lr: 0.1, weightDecay: 0.2, rowSparse: () => sparse });
      for (let s = 0; s < 5; s++) {
        if (s === 3) {
          const state = opt.getState();
          opt.dispose();
          opt = new AdamW([p], { lr: 0.1, weightDecay: 0.2, rowSparse: () => sparse });
          opt.setState(state);
        }
        const g = new Float32Array(30);
        for (const r of rowsOf(s)) for (let j = 0; j < 3; j++) g[r * 3 + j] = Math.cos(s * 7 + r * 3 + j);
        const gt = tf.tensor(g, [10, 3]);
        opt.step({ [name]: gt }, 0.1, s === 1 ? Math.fround(0.6) : 1);
        gt.dispose();
      }
      const st = opt.getState().params[0]!;
      const out = { p: Array.from(p.dataSync()), m: Array.from(st.m), v: Array.from(st.v) };
      opt.dispose();
      p.dispose();
      return out;
    };
    const sparse = run(true);
    expect(sparse).toEqual(run(false));
    expect(sparse.m.slice(0, 3)).toEqual([0, 0, 0]); // row 0 never touched: moments stay zero
    await tf.setBackend('wasm');
    try {
      expect(run(true)).toEqual(sparse);
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('does not leak tensors across steps', () => {
    const p = tf.variable(tf.tensor(X0, [2, 3]), true, 'leak_x');
    const opt = new AdamW([p], { lr: 0.1 });
    const step = (): void => {
      const g = tfGrads(p);
      opt.step(g);
      tf.dispose(Object.values(g));
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    p.dispose();
  });

  it('gives the same parameters on wasm as on cpu', async () => {
    const cpu = run(5, { lr: 0.1 });
    await tf.setBackend('wasm');
    try {
      const wasm = run(5, { lr: 0.1 });
      wasm.forEach((v, i) => expect(Math.abs(v - cpu[i]!)).toBeLessThan(1e-6));
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
