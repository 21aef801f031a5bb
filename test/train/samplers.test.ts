import { describe, expect, it } from 'vitest';
import {
  createSampler,
  exampleTexts,
  GroupByLabelSampler,
  hasValidTriplet,
  NoDuplicatesSampler,
  validTripletShare,
} from '../../core/train/samplers.js';
import { UserError } from '../../core/errors.js';
import { deriveSeed, Rng } from '../../core/rng.js';
import type { Example } from '../../core/types.js';

const flat = (b: number[][]): number[] => b.flat().sort((x, y) => x - y);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('no-duplicates sampler', () => {
  it('yields every example once per epoch, in full batches when texts are distinct', () => {
    const s = new NoDuplicatesSampler(range(50).map((i) => [`t${i}`]), 16, 7);
    const b = s.epoch(0);
    expect(b.map((x) => x.length)).toEqual([16, 16, 16, 2]);
    expect(flat(b)).toEqual(range(50));
  });

  it('never puts one text twice in a batch; skipped examples lead the next batch', () => {
    // 40 examples over 10 anchors (4 copies each) and a shared positive per pair of anchors
    const texts = range(40).map((i) => [`a${i % 10}`, `p${i % 5}`]);
    const s = new NoDuplicatesSampler(texts, 4, 3);
    for (const e of [0, 1, 2]) {
      const b = s.epoch(e);
      expect(flat(b)).toEqual(range(40));
      for (const batch of b) {
        const seen = batch.flatMap((i) => texts[i]!);
        expect(new Set(seen).size).toBe(seen.length);
      }
    }
  });

  it("matches sentence-transformers' NoDuplicatesBatchSampler on the same shuffled order", () => {
    const texts = range(60).map((i) => [`a${i % 17}`, `p${i % 7}`]);
    const order = new Rng(deriveSeed(9, 'no-duplicates/2')).shuffle(range(60));
    // the Python algorithm, transcribed: scan the remaining indices in order, skip clashes, yield when full
    let remaining = order;
    const want: number[][] = [];
    while (remaining.length > 0) {
      const batch: number[] = [];
      const values = new Set<string>();
      for (const i of remaining) {
        if (texts[i]!.some((t) => values.has(t))) continue;
        batch.push(i);
        if (batch.length === 6) break;
        for (const t of texts[i]!) values.add(t);
      }
      want.push(batch);
      remaining = remaining.filter((i) => !batch.includes(i));
    }
    expect(new NoDuplicatesSampler(texts, 6, 9).epoch(2)).toEqual(want);
  });

  it('is a pure function of (seed, epoch): same seed same order, other epoch or seed another order', () => {
    const t = range(64).map((i) => [`t${i}`]);
    const a = new NoDuplicatesSampler(t, 8, 42);
    expect(new NoDuplicatesSampler(t, 8, 42).epoch(3)).toEqual(a.epoch(3));
    expect(a.epoch(4)).not.toEqual(a.epoch(3));
    expect(new NoDuplicatesSampler(t, 8, 43).epoch(3)).not.toEqual(a.epoch(3));
  });

  it('texts of an example follow the loss shape', () => {
    const e: Example = { anchor: 'q', positive: 'p', negative: 'n', label: 'L', pairLabel: 0 };
    expect(exampleTexts(e, 'labelled')).toEqual(['q']);
    expect(exampleTexts(e, 'triplets')).toEqual(['q', 'p', 'n']);
    expect(exampleTexts(e, 'labelled-pairs')).toEqual(['q', 'n']);
  });

  it('keeps every negative column unique, as sentence-transformers: negative_2 of one example is never another’s positive in its batch', () => {
    // n-tuples (as hard-negative output_format n-tuple or the data's negatives): `negative` is the first.
    const e: Example = { anchor: 'q', positive: 'p', negative: 'n1', negatives: ['n1', 'n2', 'n3'] };
    expect(exampleTexts(e, 'pairs')).toEqual(['q', 'p', 'n1', 'n2', 'n3']);
    expect(exampleTexts(e, 'triplets')).toEqual(['q', 'p', 'n1', 'n2', 'n3']);
    // 6 categories c0…c5; example i: positive c(i mod 6), negatives c(i+1), c(i+2) (mod 6).
    const items: Example[] = range(24).map((i) => ({
      anchor: `q${i}`,
      positive: `c${i % 6}`,
      negative: `c${(i + 1) % 6}`,
      negatives: [`c${(i + 1) % 6}`, `c${(i + 2) % 6}`],
    }));
    const s = createSampler(items, 'pairs', { kind: 'no-duplicates', batchSize: 8, samplesPerLabel: 2, seed: 3 });
    const batches = s.epoch(0);
    expect(flat(batches)).toEqual(range(24));
    for (const b of batches) {
      const texts = b.flatMap((i) => [items[i]!.positive!, ...items[i]!.negatives!]);
      expect(new Set(texts).size).toBe(texts.length);
      expect(b.length).toBeLessThanOrEqual(2); // 3 category texts per example, 6 categories
    }
  });
});

describe('group-by-label sampler', () => {
  // 9 labels with 1..9 examples each (45 examples); label 0 has a single example
  const labels = range(9).flatMap((l) => range(l + 1).map(() => `L${l}`));

  it('puts K examples of distinct labels in each batch and leaves out labels seen once', () => {
    const s = new GroupByLabelSampler(labels, 8, 2, 11);
    expect(s.excluded).toBe(1);
    for (const e of [0, 1]) {
      const b = s.epoch(e);
      expect(flat(b)).toEqual(range(45).filter((i) => labels[i] !== 'L0'));
      for (const batch of b) expect(batch.length).toBeLessThanOrEqual(8);
      // chunks of 2 (or 3 with a lone leftover) per label: every label in a batch appears ≥ 2 times
      for (const batch of b) {
        const counts = new Map<string, number>();
        for (const i of batch) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
        for (const c of counts.values()) expect(c).toBeGreaterThanOrEqual(2);
      }
      // all but possibly the last batch hold a valid triplet
      expect(b.slice(0, -1).every((batch) => hasValidTriplet(batch.map((i) => labels[i]!)))).toBe(true);
    }
  });

  it('gives far more valid-triplet batches than no-duplicates on rare labels', () => {
    // 30 labels × 3 examples, batch 8: random batches rarely repeat a label
    const rare = range(90).map((i) => `L${i % 30}`);
    const nd = new NoDuplicatesSampler(rare.map((_, i) => [`t${i}`]), 8, 5).epoch(0);
    const gl = new GroupByLabelSampler(rare, 8, 2, 5).epoch(0);
    expect(validTripletShare(gl, rare)).toBeGreaterThan(0.9);
    expect(validTripletShare(gl, rare)).toBeGreaterThan(validTripletShare(nd, rare));
  });

  it('is seeded', () => {
    expect(new GroupByLabelSampler(labels, 8, 2, 1).epoch(0)).toEqual(new GroupByLabelSampler(labels, 8, 2, 1).epoch(0));
    expect(new GroupByLabelSampler(labels, 8, 2, 1).epoch(0)).not.toEqual(new GroupByLabelSampler(labels, 8, 2, 2).epoch(0));
  });

  it('createSampler refuses group-by-label for unlabelled examples', () => {
    const items: Example[] = [{ anchor: 'a', positive: 'b' }, { anchor: 'c', positive: 'd' }];
    expect(() => createSampler(items, 'pairs', { kind: 'group-by-label', batchSize: 2, samplesPerLabel: 2, seed: 1 })).toThrow(UserError);
    expect(createSampler(items, 'pairs', { kind: 'no-duplicates', batchSize: 2, samplesPerLabel: 2, seed: 1 }).epoch(0)).toHaveLength(1);
  });
});

describe('valid triplets', () => {
  it('needs a label twice and another label', () => {
    expect(hasValidTriplet(['a', 'a', 'b'])).toBe(true);
    expect(hasValidTriplet(['a', 'b', 'c'])).toBe(false);
    expect(hasValidTriplet(['a', 'a', 'a'])).toBe(false);
    expect(validTripletShare([[0, 1, 2], [0, 2, 3]], ['a', 'a', 'b', 'c'])).toBe(0.5);
  });
});
