/**
 * The query filters of dataset `generate` (issue 19 §2, plugins/dataset/generate/filters.ts):
 * exact duplicates, near duplicates (word-bigram Jaccard, exact by prefix filtering — checked
 * against all pairs, and on 50 000 queries), queries copying spans of their document, and the
 * round trip (the source within an encoder's top k), with a deterministic encoder and tiny-bert.
 */
import { describe, expect, it } from 'vitest';
import type { Doc, Encoder, EncodeOptions } from '../../../core/types.js';
import OrtBackend from '../../../plugins/backend/ort.js';
import { dropCopiedSpans, dropDuplicates, dropNearDuplicates, dropRoundTripMisses, normalizeQuery, shinglesOf, type Candidate } from '../../../plugins/dataset/generate/filters.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, TINY_BERT } from '../../helpers/shared.js';

const cand = (text: string, source = 'd1', sourceText = 'a document'): Candidate => ({ text, source, sourceText });
const texts = (xs: Candidate[]) => xs.map((x) => x.text);

describe('dropDuplicates', () => {
  it('removes queries equal after normalising case, whitespace and surrounding quotes/punctuation; the first is kept', () => {
    const items = [
      cand('What is a refund?'),
      cand('  what IS a   refund '),
      cand('"What is a refund?"'),
      cand('What is a refund policy?'),
      cand('«What is a refund»'),
      cand('`what is a refund`...'),
      cand('What is a re-fund?'),
    ];
    const out = dropDuplicates(items);
    expect(texts(out.kept)).toEqual(['What is a refund?', 'What is a refund policy?', 'What is a re-fund?']);
    expect(texts(out.removed)).toEqual(['  what IS a   refund ', '"What is a refund?"', '«What is a refund»', '`what is a refund`...']);
    expect(normalizeQuery(' "Why  NOT?!" ')).toBe('why not');
  });

  it('keeps every distinct query, in order', () => {
    const out = dropDuplicates([cand('a b'), cand('b a'), cand('a  b c')]);
    expect(texts(out.kept)).toEqual(['a b', 'b a', 'a  b c']);
    expect(out.removed).toEqual([]);
  });
});

describe('dropNearDuplicates', () => {
  it('shingles are word bigrams of the lower-cased words; one word is its own shingle; no words, none', () => {
    expect([...shinglesOf('How do I, cancel?')]).toEqual(['how do', 'do i', 'i cancel']);
    expect([...shinglesOf('Refunds!')]).toEqual(['refunds']);
    expect([...shinglesOf('?!')]).toEqual([]);
  });

  it('removes a query whose bigram Jaccard to an earlier kept query is >= the threshold', () => {
    const items = [
      cand('how do I cancel my card subscription'), // 6 bigrams
      cand('How do I cancel my card subscription today?'), // 6 of 7 shared: 0.857
      cand('subscription card my cancel I do how'), // the same words, no bigram shared: 0
      cand('where is my nearest branch'),
      cand('how do i cancel my subscription'), // 4 shared, union 7: 0.571
    ];
    const at6 = dropNearDuplicates(items, 0.6);
    expect(texts(at6.removed)).toEqual(['How do I cancel my card subscription today?']);
    expect(texts(at6.kept)).toEqual(['how do I cancel my card subscription', 'subscription card my cancel I do how', 'where is my nearest branch', 'how do i cancel my subscription']);
    const at5 = dropNearDuplicates(items, 0.5);
    expect(texts(at5.removed)).toEqual(['How do I cancel my card subscription today?', 'how do i cancel my subscription']);
    expect(dropNearDuplicates(items, 0.9).removed).toEqual([]);
  });

  it('a similarity equal to the threshold removes (3 of 4 bigrams: 0.75), also where t · n is rounded up in floating point', () => {
    const items = [cand('alpha beta gamma delta'), cand('alpha beta gamma delta epsilon')];
    expect(texts(dropNearDuplicates(items, 0.75).removed)).toEqual(['alpha beta gamma delta epsilon']);
    expect(dropNearDuplicates(items, 0.76).removed).toEqual([]);
    // 14 bigrams, all in the other's 25: Jaccard 0.56 exactly, though 0.56 · 25 is 14.000000000000002 in floating point
    const words = Array.from({ length: 26 }, (_, i) => `w${i}`);
    const long = cand(words.join(' '));
    const short = cand(words.slice(0, 15).join(' '));
    expect(texts(dropNearDuplicates([long, short], 0.56).removed)).toEqual([short.text]);
    expect(texts(dropNearDuplicates([short, long], 0.56).removed)).toEqual([long.text]);
    expect(dropNearDuplicates([long, short], 0.57).removed).toEqual([]);
  });

  it('compares with kept queries only: one near a removed query alone is kept', () => {
    const a = cand('w1 w2 w3 w4 w5 w6');
    const b = cand('w1 w2 w3 w4 w5 w6 w7'); // 5 of 6 shared with a: 0.833, removed
    const c = cand('w2 w3 w4 w5 w6 w7 w8'); // 0.714 to b (removed), 0.571 to a
    const out = dropNearDuplicates([a, b, c], 0.7);
    expect(texts(out.kept)).toEqual([a.text, c.text]);
    expect(texts(out.removed)).toEqual([b.text]);
  });

  it('gives what comparing every pair gives, for random queries over a small vocabulary', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vocab = ['card', 'fee', 'loan', 'refund', 'my', 'the', 'how', 'why', 'cancel', 'travel'];
    const items = Array.from({ length: 600 }, () => cand(Array.from({ length: 2 + Math.floor(rand() * 5) }, () => vocab[Math.floor(rand() * vocab.length)]).join(' ')));
    for (const t of [0.3, 0.5, 0.6, 0.8, 1]) {
      const kept: Array<Set<string>> = [];
      const removed: string[] = [];
      for (const item of items) {
        const s = shinglesOf(item.text);
        const near = s.size > 0 && kept.some((k) => {
          const common = [...s].filter((g) => k.has(g)).length;
          return common / (s.size + k.size - common) >= t;
        });
        if (near) removed.push(item.text);
        else kept.push(s);
      }
      expect(texts(dropNearDuplicates(items, t).removed)).toEqual(removed);
      expect(removed.length).toBeGreaterThan(0);
    }
  });

  it('handles 50 000 queries sharing common words: exactly the planted near duplicates are removed', () => {
    const items: Candidate[] = [];
    const planted: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      items.push(cand(`what is the policy for item${i} in region${i % 7} code${(i * 31) % 1000}`));
      if (i % 100 === 0) {
        // 8 of its 9 bigrams shared with the query before it: 0.889
        const near = `What is the policy for item${i} in region${i % 7} code${(i * 31) % 1000}, please?`;
        items.push(cand(near));
        planted.push(near);
      }
    }
    const out = dropNearDuplicates(items, 0.8);
    expect(out.removed.length).toBe(500);
    expect(texts(out.removed)).toEqual(planted);
    expect(out.kept.length).toBe(50_000);
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => dropNearDuplicates([], 0)).toThrow('dropNearDuplicates: threshold must be in (0, 1], got 0');
    expect(() => dropNearDuplicates([], 1.5)).toThrow('dropNearDuplicates: threshold must be in (0, 1], got 1.5');
  });
});

describe('dropCopiedSpans', () => {
  const doc = 'The annual fee is waived for the first year when you spend 500 dollars.';
  const items = [
    cand('Is the annual fee waived for the first year?', 'fees', doc), // "waived for the first year"
    cand('When is the annual fee waived?', 'fees', doc),
    cand('THE ANNUAL FEE, IS WAIVED?', 'fees', doc), // "the annual fee is waived" (case, punctuation)
    cand('waived for the first year', 'other', 'A different document about travel insurance.'), // not its own document's words
    cand('annual fee is waived', 'fees', doc), // 4 words
  ];

  it('removes a query repeating minWords consecutive words of its own document (normalised)', () => {
    const out = dropCopiedSpans(items, 5);
    expect(texts(out.removed)).toEqual(['Is the annual fee waived for the first year?', 'THE ANNUAL FEE, IS WAIVED?']);
    expect(texts(out.kept)).toEqual(['When is the annual fee waived?', 'waived for the first year', 'annual fee is waived']);
  });

  it('a shorter span counts with a smaller minWords; a longer one is needed with a larger', () => {
    expect(texts(dropCopiedSpans(items, 4).removed)).toEqual(['Is the annual fee waived for the first year?', 'THE ANNUAL FEE, IS WAIVED?', 'annual fee is waived']);
    expect(texts(dropCopiedSpans(items, 6).removed)).toEqual([]);
  });

  it('rejects a minWords below 1', () => {
    expect(() => dropCopiedSpans(items, 0)).toThrow('dropCopiedSpans: minWords must be an integer >= 1, got 0');
  });
});

/** An encoder counting keywords (one dimension each), recording what it was asked to encode. */
function keywordEncoder(calls: Array<{ kind: string; n: number }>): Encoder {
  const words = ['card', 'loan', 'fee', 'travel'];
  return {
    dim: words.length,
    info: {},
    async encode(xs: string[], opts: EncodeOptions) {
      calls.push({ kind: opts.kind, n: xs.length });
      return xs.map((t) => Float32Array.from(words, (w) => t.split(' ').filter((x) => x === w).length));
    },
    async dispose() {},
  };
}

describe('dropRoundTripMisses', () => {
  const corpus: Doc[] = [
    { id: 'd1', text: 'card card' },
    { id: 'd2', text: 'loan' },
    { id: 'd3', text: 'fee' },
    { id: 'd4', text: 'travel' },
  ];
  const items = [
    cand('card', 'd1'), // d1 first
    cand('loan', 'd1'), // d2 first, then d1 (0, ties with d3 and d4: corpus order) second
    cand('fee travel', 'd4'), // d3 and d4 tie: d3 (before it in the corpus) first
    cand('card fee', 'd3'), // d1 and d3 tie at 0.707: d1 first
  ];

  it('keeps a query when its source is within the top k (cosine; ties by corpus order), embedding documents and queries as such', async () => {
    const calls: Array<{ kind: string; n: number }> = [];
    const k1 = await dropRoundTripMisses(items, corpus, keywordEncoder(calls), 1);
    expect(texts(k1.kept)).toEqual(['card']);
    expect(texts(k1.removed)).toEqual(['loan', 'fee travel', 'card fee']);
    expect(calls).toEqual([
      { kind: 'document', n: 4 },
      { kind: 'query', n: 4 },
    ]);
    const k2 = await dropRoundTripMisses(items, corpus, keywordEncoder([]), 2);
    expect(texts(k2.kept)).toEqual(['card', 'loan', 'fee travel', 'card fee']);
    expect(k2.removed).toEqual([]);
  });

  it('a source that is not a corpus id is an error naming it', async () => {
    await expect(dropRoundTripMisses([cand('card', 'd9')], corpus, keywordEncoder([]), 1)).rejects.toThrow('dropRoundTripMisses: the source "d9" of query "card" is not a corpus id');
  });
});

describeShared('dropRoundTripMisses with tiny-bert through the ort backend', () => {
  it('keeps a query whose text is its source document, removes one whose text is another document', async () => {
    const enc = await new OrtBackend({ intra_op_threads: 1, batch_size: 8, execution_providers: ['cpu'] }, makeContext()).loadEncoder({ path: TINY_BERT, query_prompt: '', document_prompt: '' }, 'round_trip');
    try {
      const corpus: Doc[] = ['Groceries', 'Dining out', 'Fuel and gas', 'Travel and flights', 'Utilities'].map((t) => ({ id: t.toLowerCase(), text: t }));
      const items = [cand('Groceries', 'groceries'), cand('Utilities', 'dining out'), cand('Fuel and gas', 'fuel and gas')];
      const out = await dropRoundTripMisses(items, corpus, enc, 1);
      expect(texts(out.kept)).toEqual(['Groceries', 'Fuel and gas']);
      expect(texts(out.removed)).toEqual(['Utilities']);
      expect((await dropRoundTripMisses(items, corpus, enc, 5)).removed).toEqual([]);
    } finally {
      await enc.dispose();
    }
  });
});
