/**
 * Batch samplers of the trainer. A sampler's batches for epoch e are a pure function of
 * (seed, e), so a run resumes exactly from (epoch, batch index) alone.
 *
 * - no-duplicates: sentence-transformers' NoDuplicatesBatchSampler. The examples are shuffled;
 *   a batch is filled in that order, skipping an example that shares a text with the batch (it
 *   stays first in line for the next batch); a batch that cannot be filled is yielded short.
 * - group-by-label: P labels × K examples (K = samples_per_label). Each label's examples are
 *   shuffled and cut into chunks of K (a lone leftover joins the label's previous chunk); the
 *   chunks are shuffled and each batch takes chunks of distinct labels (first fit), so batch
 *   triplet losses always see positives and negatives. Labels with a single example are left out.
 */
import { UserError } from '../errors.js';
import { deriveSeed, Rng } from '../rng.js';
import type { Example, ExampleShape } from '../types.js';
import { negativesOf } from './columns.js';
import type { BatchSamplerKind } from './training-schema.js';

export interface BatchSampler {
  readonly kind: BatchSamplerKind;
  /** Number of examples sampled from. */
  readonly size: number;
  /** Examples this sampler never yields (group-by-label: labels seen once). */
  readonly excluded: number;
  /** The batches (example indices) of epoch `epoch` (0-based). */
  epoch(epoch: number): number[][];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export class NoDuplicatesSampler implements BatchSampler {
  readonly kind = 'no-duplicates' as const;
  readonly excluded = 0;

  /** `texts[i]`: the texts of example i that must not repeat within a batch. */
  constructor(
    private readonly texts: readonly (readonly string[])[],
    private readonly batchSize: number,
    private readonly seed: number,
  ) {}

  get size(): number {
    return this.texts.length;
  }

  epoch(epoch: number): number[][] {
    const order = new Rng(deriveSeed(this.seed, `no-duplicates/${epoch}`)).shuffle(range(this.texts.length));
    const batches: number[][] = [];
    let deferred: number[] = []; // skipped examples, still ahead of the unscanned ones
    let pos = 0;
    while (deferred.length > 0 || pos < order.length) {
      const batch: number[] = [];
      const seen = new Set<string>();
      const skipped: number[] = [];
      const offer = (i: number): void => {
        const t = this.texts[i]!;
        if (batch.length >= this.batchSize || t.some((x) => seen.has(x))) {
          skipped.push(i);
          return;
        }
        batch.push(i);
        for (const x of t) seen.add(x);
      };
      for (const i of deferred) offer(i);
      while (batch.length < this.batchSize && pos < order.length) offer(order[pos++]!);
      deferred = skipped;
      batches.push(batch);
    }
    return batches;
  }
}

interface Chunk {
  label: string;
  idx: number[];
}

export class GroupByLabelSampler implements BatchSampler {
  readonly kind = 'group-by-label' as const;
  readonly excluded: number;
  private readonly groups: Array<[string, number[]]>;

  constructor(
    private readonly labels: readonly string[],
    private readonly batchSize: number,
    private readonly samplesPerLabel: number,
    private readonly seed: number,
  ) {
    const by = new Map<string, number[]>();
    labels.forEach((l, i) => (by.get(l) ?? by.set(l, []).get(l)!).push(i));
    const sorted = [...by].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.groups = sorted.filter(([, idx]) => idx.length >= 2);
    this.excluded = sorted.filter(([, idx]) => idx.length < 2).length;
  }

  get size(): number {
    return this.labels.length;
  }

  epoch(epoch: number): number[][] {
    const rng = new Rng(deriveSeed(this.seed, `group-by-label/${epoch}`));
    const k = Math.min(this.samplesPerLabel, this.batchSize);
    const chunks: Chunk[] = [];
    for (const [label, idx] of this.groups) {
      const s = rng.shuffle(idx);
      const mine: Chunk[] = [];
      for (let i = 0; i < s.length; i += k) mine.push({ label, idx: s.slice(i, i + k) });
      const last = mine[mine.length - 1]!;
      if (last.idx.length === 1 && mine.length > 1 && mine[mine.length - 2]!.idx.length < this.batchSize) {
        mine.pop();
        mine[mine.length - 1]!.idx.push(last.idx[0]!);
      }
      chunks.push(...mine);
    }
    let queue = rng.shuffle(chunks);
    const minChunk = Math.min(...queue.map((c) => c.idx.length));
    const batches: number[][] = [];
    while (queue.length > 0) {
      const batch: number[] = [];
      const used = new Set<string>();
      // First fit with distinct labels; then, if room is left (few labels), any chunk that fits.
      for (const distinct of [true, false]) {
        const next: Chunk[] = [];
        for (let j = 0; j < queue.length; j++) {
          const c = queue[j]!;
          const room = this.batchSize - batch.length;
          if (room < minChunk) {
            next.push(...queue.slice(j));
            break;
          }
          if (c.idx.length <= room && !(distinct && used.has(c.label))) {
            batch.push(...c.idx);
            used.add(c.label);
          } else next.push(c);
        }
        queue = next;
      }
      batches.push(batch);
    }
    return batches;
  }
}

/**
 * The texts of an example that no-duplicates keeps unique within a batch: the loss's text columns,
 * every negative column included (negative_1 … negative_n), as sentence-transformers' sampler checks
 * every column. Otherwise one example's negative_2 could be another's positive in the same batch,
 * and so a false negative of that other example (in-batch-negative losses score every anchor against
 * every column).
 */
export function exampleTexts(e: Example, needs: ExampleShape): string[] {
  switch (needs) {
    case 'labelled':
      return [e.anchor];
    case 'labelled-pairs':
      return [e.anchor, (e.pairLabel === 1 ? (e.positive ?? e.negative) : (e.negative ?? e.positive)) ?? ''];
    default:
      return [e.anchor, ...(e.positive === undefined ? [] : [e.positive]), ...negativesOf(e)];
  }
}

export interface SamplerOptions {
  kind: BatchSamplerKind;
  batchSize: number;
  samplesPerLabel: number;
  seed: number;
}

export function createSampler(items: readonly Example[], needs: ExampleShape, o: SamplerOptions): BatchSampler {
  if (o.kind === 'no-duplicates') return new NoDuplicatesSampler(items.map((e) => exampleTexts(e, needs)), o.batchSize, o.seed);
  const unlabelled = items.findIndex((e) => e.label === undefined);
  if (unlabelled >= 0) {
    throw new UserError('E_CONFIG', `training.batch_sampler: group-by-label needs a label on every training example; example ${unlabelled} has none (use no-duplicates, or a miner that keeps labels)`);
  }
  return new GroupByLabelSampler(items.map((e) => e.label!), o.batchSize, o.samplesPerLabel, o.seed);
}

/** A batch of labelled sentences holds a valid triplet: some label twice (anchor, positive) and another label (negative). */
export function hasValidTriplet(labels: readonly string[]): boolean {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts.size >= 2 && [...counts.values()].some((c) => c >= 2);
}

/** Share of `batches` that hold a valid triplet. */
export function validTripletShare(batches: readonly number[][], labels: readonly string[]): number {
  if (batches.length === 0) return 0;
  const ok = batches.filter((b) => hasValidTriplet(b.map((i) => labels[i]!))).length;
  return ok / batches.length;
}
