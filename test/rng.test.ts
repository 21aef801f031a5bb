import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, mixSeed, mulberry32 } from '../core/rng.js';

describe('rng', () => {
  it('mulberry32 matches its reference output', () => {
    // from the C reference (Tommy Ettinger's mulberry32) run in Python with uint32 arithmetic, state 1
    const g = mulberry32(1);
    expect([g(), g(), g()].map((x) => x * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('mixes seeds of any size into 32 bits', () => {
    expect(mixSeed(2 ** 40)).not.toBe(mixSeed(0));
    expect(mixSeed(-1)).not.toBe(mixSeed(1));
    expect(() => mixSeed(1.5)).toThrow('safe integer');
    expect(deriveSeed(42, 'miner')).not.toBe(deriveSeed(42, 'splitter'));
  });

  it('shuffle is a seeded permutation and leaves its input alone', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s1 = createRng(1).shuffle(items);
    expect(s1).toEqual(createRng(1).shuffle(items));
    expect(s1).not.toEqual(items);
    expect([...s1].sort((x, y) => x - y)).toEqual(items);
    expect(items[0]).toBe(0);
  });

  it('shuffle is close to uniform (every item reaches every slot)', () => {
    const rng = createRng(5);
    const counts = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
    for (let t = 0; t < 4000; t++) rng.shuffle([0, 1, 2, 3]).forEach((v, slot) => counts[v]![slot]!++);
    for (const row of counts) for (const c of row) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('int, choice, sample and normal', () => {
    const rng = createRng(9);
    const ints = Array.from({ length: 1000 }, () => rng.int(3));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2]));
    expect(['a', 'b']).toContain(rng.choice(['a', 'b']));
    expect(() => rng.choice([])).toThrow('empty');
    const s = rng.sample([1, 2, 3, 4, 5], 3);
    expect(new Set(s).size).toBe(3);
    expect(() => rng.sample([1], 2)).toThrow();
    const xs = Array.from({ length: 4000 }, () => rng.normal());
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(variance - 1)).toBeLessThan(0.08);
  });

  it('fork gives an independent, reproducible stream', () => {
    const f1 = createRng(3).fork('x');
    const f2 = createRng(3).fork('x');
    expect(f1.next()).toBe(f2.next());
    expect(createRng(3).fork('y').next()).not.toBe(createRng(3).fork('x').next());
  });
});
