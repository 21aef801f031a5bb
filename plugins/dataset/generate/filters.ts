/**
 * The query filters of dataset `generate` (issue 19 §2): each takes the generated candidates in
 * order and returns those it keeps and those it removes (both in input order), so the caller can
 * report how many each removed. The exact rules:
 *
 * - **dropDuplicates**: two queries are duplicates when their normalised texts are equal —
 *   Unicode NFKC, lower case, every run of whitespace one space, and quotes, punctuation
 *   (Unicode P*, and backticks) and whitespace at either end stripped (`"What is X?"` =
 *   `what is x`; punctuation inside stays: `x-ray` is not `x ray`). The first is kept.
 * - **dropNearDuplicates**: a query is removed when the Jaccard similarity of its word-bigram
 *   set to that of a query kept before it is >= `threshold`. Words are the runs of letters and
 *   digits of the lower-cased (NFKC) text; shingles are the pairs of consecutive words (n = 2:
 *   queries are short, a handful of words, and bigrams keep their order — `dog bites man` is
 *   not `man bites dog` — while one word changed still leaves most shingles shared); a query of
 *   one word is that word's shingle; a query without words has none and is never a near
 *   duplicate. Exact, not estimated: candidates are found by prefix filtering (shingles ordered
 *   rarest first; only the first |S| − ⌈t·|S|⌉ + 1 of each kept query's shingles are indexed,
 *   and any pair with Jaccard >= t shares one of them) with a size filter, then each candidate's
 *   Jaccard is computed — common shingles (`what is`) are never indexed, so 50 000 queries do
 *   not compare all pairs.
 * - **dropCopiedSpans**: a query is removed when `minWords` consecutive words of it (words as
 *   above) occur as consecutive words of its `sourceText` — the query copies its document.
 * - **dropRoundTripMisses**: the corpus is embedded as documents and the queries as queries with
 *   the given encoder; a query is kept when its source document is among the `k` documents of
 *   highest cosine similarity to it. Ties are broken by corpus order, as the `memory` store
 *   breaks them: the source's rank is 1 + the documents scoring higher + the documents before it
 *   in the corpus scoring the same.
 */
import type { Doc, Encoder } from '../../../core/types.js';
import { normalized } from '../../store/memory.js';

/** A generated query: its text, the id of the document it was written from, and that document's text. */
export interface Candidate {
  text: string;
  /** The id of the document (corpus id) the query was written from: its relevant document. */
  source: string;
  sourceText: string;
}

/** What a filter keeps and removes, each in input order. */
export interface Filtered<T> {
  kept: T[];
  removed: T[];
}

/** A query's text as dropDuplicates compares it: NFKC, lower case, whitespace collapsed, quotes (any Unicode punctuation, and backticks) and whitespace at either end stripped. */
export function normalizeQuery(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .replace(/^[\s\p{P}`]+|[\s\p{P}`]+$/gu, '');
}

/** The words of a text as the near-duplicate and copied-span filters see them: runs of letters and digits, lower-cased (NFKC). */
export function wordsOf(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Word n-gram size of dropNearDuplicates' shingles. */
export const SHINGLE_WORDS = 2;

/** The set of word shingles of `text` (n = SHINGLE_WORDS; a shorter text: its words as one shingle; no words: none). */
export function shinglesOf(text: string): Set<string> {
  const w = wordsOf(text);
  if (w.length === 0) return new Set();
  if (w.length < SHINGLE_WORDS) return new Set([w.join(' ')]);
  const out = new Set<string>();
  for (let i = 0; i + SHINGLE_WORDS <= w.length; i++) out.add(w.slice(i, i + SHINGLE_WORDS).join(' '));
  return out;
}

function split<T>(items: T[], removed: (item: T, i: number) => boolean): Filtered<T> {
  const out: Filtered<T> = { kept: [], removed: [] };
  items.forEach((item, i) => (removed(item, i) ? out.removed : out.kept).push(item));
  return out;
}

/** Exact duplicates after normalising (normalizeQuery); the first of each is kept. */
export function dropDuplicates<T extends Candidate>(items: T[]): Filtered<T> {
  const seen = new Set<string>();
  return split(items, (item) => {
    const key = normalizeQuery(item.text);
    if (seen.has(key)) return true;
    seen.add(key);
    return false;
  });
}

// A little below t·n, so that 0.56 · 25 (14.000000000000002 in floating point) needs 14, not 15.
const atLeast = (t: number, n: number): number => Math.ceil(t * n - 1e-9);

/**
 * Queries whose word-bigram Jaccard similarity to a query kept before them is >= `threshold`
 * (0 < threshold <= 1); see the module comment for the rule and how it scales.
 */
export function dropNearDuplicates<T extends Candidate>(items: T[], threshold: number): Filtered<T> {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`dropNearDuplicates: threshold must be in (0, 1], got ${threshold}`);
  const sets = items.map((item) => shinglesOf(item.text));
  // The global order: rarest shingle first (then by text), so that indexed prefixes hold rare shingles.
  const freq = new Map<string, number>();
  for (const s of sets) for (const g of s) freq.set(g, (freq.get(g) ?? 0) + 1);
  const byRarity = (a: string, b: string) => freq.get(a)! - freq.get(b)! || (a < b ? -1 : a > b ? 1 : 0);
  const index = new Map<string, number[]>(); // shingle → kept items (by position in `sets`) with it in their prefix
  const jaccardAtLeast = (a: Set<string>, b: Set<string>): boolean => {
    let common = 0;
    const [small, large] = a.size <= b.size ? [a, b] : [b, a];
    for (const g of small) if (large.has(g)) common++;
    return common / (a.size + b.size - common) >= threshold - 1e-12;
  };
  return split(items, (_item, i) => {
    const set = sets[i]!;
    if (set.size === 0) return false;
    const ordered = [...set].sort(byRarity);
    const prefix = ordered.slice(0, ordered.length - atLeast(threshold, ordered.length) + 1);
    const seen = new Set<number>();
    for (const g of prefix) {
      for (const j of index.get(g) ?? []) {
        if (seen.has(j)) continue;
        seen.add(j);
        const other = sets[j]!;
        // Size filter: Jaccard >= t needs t·|A| <= |B| <= |A|/t.
        if (other.size < threshold * set.size - 1e-9 || other.size * threshold > set.size + 1e-9) continue;
        if (jaccardAtLeast(set, other)) return true;
      }
    }
    for (const g of prefix) {
      const list = index.get(g);
      if (list) list.push(i);
      else index.set(g, [i]);
    }
    return false;
  });
}

/** Queries that repeat `minWords` (>= 1) consecutive words of their sourceText (words as wordsOf). */
export function dropCopiedSpans<T extends Candidate>(items: T[], minWords: number): Filtered<T> {
  if (!Number.isInteger(minWords) || minWords < 1) throw new RangeError(`dropCopiedSpans: minWords must be an integer >= 1, got ${minWords}`);
  // Queries grouped by their document's text, so that each document's spans are built once and dropped after.
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const g = groups.get(item.sourceText);
    if (g) g.push(i);
    else groups.set(item.sourceText, [i]);
  });
  const copies = new Set<number>();
  for (const [sourceText, members] of groups) {
    const words = wordsOf(sourceText);
    const spans = new Set<string>();
    for (let i = 0; i + minWords <= words.length; i++) spans.add(words.slice(i, i + minWords).join(' '));
    if (spans.size === 0) continue;
    for (const m of members) {
      const q = wordsOf(items[m]!.text);
      for (let i = 0; i + minWords <= q.length; i++) {
        if (spans.has(q.slice(i, i + minWords).join(' '))) {
          copies.add(m);
          break;
        }
      }
    }
  }
  return split(items, (_item, i) => copies.has(i));
}

/**
 * Queries whose source document is not among the `k` (>= 1) documents of `corpus` most similar
 * to them (cosine of `encoder`'s embeddings: the corpus as documents, the queries as queries;
 * ties broken by corpus order). Every source must be a corpus id.
 */
export async function dropRoundTripMisses<T extends Candidate>(items: T[], corpus: Doc[], encoder: Encoder, k: number): Promise<Filtered<T>> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`dropRoundTripMisses: k must be an integer >= 1, got ${k}`);
  if (items.length === 0) return { kept: [], removed: [] };
  const position = new Map<string, number>();
  corpus.forEach((d, i) => {
    if (!position.has(d.id)) position.set(d.id, i);
  });
  const sources = items.map((item) => {
    const p = position.get(item.source);
    if (p === undefined) throw new Error(`dropRoundTripMisses: the source "${item.source}" of query "${item.text}" is not a corpus id`);
    return p;
  });
  const docs = (await encoder.encode(corpus.map((d) => d.text), { kind: 'document' })).map(normalized);
  const queries = (await encoder.encode(items.map((item) => item.text), { kind: 'query' })).map(normalized);
  const dot = (a: Float32Array, b: Float32Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  return split(items, (_item, qi) => {
    const q = queries[qi]!;
    const src = sources[qi]!;
    const own = dot(q, docs[src]!);
    let ahead = 0; // documents ranked above the source
    for (let d = 0; d < docs.length; d++) {
      if (d === src) continue;
      const s = dot(q, docs[d]!);
      if (s > own || (s === own && d < src)) {
        if (++ahead >= k) return true;
      }
    }
    return false;
  });
}
