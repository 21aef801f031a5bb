/**
 * A small seeded pseudo-random generator shared by every seeded component (splitters, miners,
 * samplers, tests), so that one `seed` in an experiment file reproduces a run exactly.
 *
 * The generator is mulberry32 (32-bit state, period 2^32): fast, tiny, good enough for
 * shuffling and sampling. Seeds of any size are first mixed into 32 bits (splitmix32 finaliser),
 * so nearby seeds (41, 42, 43) start from unrelated states. `deriveSeed(seed, 'label')` gives
 * independent streams to components that share one run seed.
 */

/** mulberry32: a function returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix an integer seed (any safe integer, negative included) into 32 bits. */
export function mixSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
  // fold the high bits in, then the splitmix32 finaliser
  let h = (seed >>> 0) ^ Math.floor(seed / 4294967296);
  h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
  h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A seed for an independent stream: FNV-1a of `label` combined with `seed`. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5 ^ mixSeed(seed);
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private readonly gen: () => number;
  private spare: number | undefined;

  constructor(readonly seed: number) {
    this.gen = mulberry32(mixSeed(seed));
  }

  /** A float in [0, 1). */
  next(): number {
    return this.gen();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.gen() * n);
  }

  /** A standard normal deviate (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.gen();
    const v = this.gen();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of `arr` in place; returns it. */
  shuffleInPlace<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = tmp;
    }
    return arr;
  }

  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    return this.shuffleInPlace(items.slice());
  }

  /** One element chosen uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.choice: empty array');
    return items[this.int(items.length)]!;
  }

  /** `k` distinct elements (k ≤ length), in the order drawn (partial Fisher–Yates). */
  sample<T>(items: readonly T[], k: number): T[] {
    if (!Number.isInteger(k) || k < 0 || k > items.length) {
      throw new Error(`Rng.sample: k must be an integer in [0, ${items.length}], got ${k}`);
    }
    const a = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(a.length - i);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a.slice(0, k);
  }

  /** An independent generator for a sub-component. */
  fork(label: string): Rng {
    return new Rng(deriveSeed(this.seed, label));
  }
}

export function createRng(seed: number): Rng {
  return new Rng(seed);
}
