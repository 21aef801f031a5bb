/**
 * store `memory`: exact brute-force cosine search in process memory. Vectors are L2-normalised
 * on indexing and querying; ties are broken by corpus order. No files, nothing to clean up:
 * the reference the other stores are tested against.
 */
import { definePlugin } from '../../core/plugin.js';
import type { Doc, RunContext, SearchHit, StorePlugin } from '../../core/types.js';

export type MemoryStoreOptions = Record<string, never>;

interface MemTable {
  ids: string[];
  dim: number;
  vectors: Float32Array[];
}

/** An L2-normalised copy (a zero vector stays zero). */
export function normalized(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (s === 0) return out;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

/** Checks that docs and vectors match and share one dimension; returns it. */
export function checkVectors(store: string, name: string, docs: Doc[], vectors: Float32Array[]): number {
  if (docs.length !== vectors.length) {
    throw new Error(`store ${store}: index "${name}": ${docs.length} documents but ${vectors.length} vectors`);
  }
  if (docs.length === 0) throw new Error(`store ${store}: index "${name}": no documents`);
  const dim = vectors[0]!.length;
  const bad = vectors.findIndex((v) => v.length !== dim);
  if (bad >= 0) throw new Error(`store ${store}: index "${name}": vector ${bad} has dimension ${vectors[bad]!.length}, expected ${dim}`);
  return dim;
}

export default definePlugin({
  stage: 'store',
  type: 'memory',
  description: 'Exact brute-force cosine search in memory (ties broken by corpus order).',
  schema: { type: 'object', additionalProperties: false, properties: {} },
  create: (options: MemoryStoreOptions, ctx: RunContext) => new MemoryStore(options, ctx),
});

class MemoryStore implements StorePlugin {
  private readonly tables = new Map<string, MemTable>();

  constructor(
    private readonly options: MemoryStoreOptions,
    private readonly ctx: RunContext,
  ) {}

  async index(name: string, docs: Doc[], vectors: Float32Array[]): Promise<void> {
    if (this.tables.has(name)) throw new Error(`store memory: table "${name}" already exists`);
    const dim = checkVectors('memory', name, docs, vectors);
    this.tables.set(name, { ids: docs.map((d) => d.id), dim, vectors: vectors.map(normalized) });
  }

  async search(name: string, queries: Float32Array[], k: number): Promise<SearchHit[][]> {
    const t = this.tables.get(name);
    if (!t) throw new Error(`store memory: no table "${name}"`);
    const n = Math.min(k, t.ids.length);
    return queries.map((raw) => {
      if (raw.length !== t.dim) throw new Error(`store memory: query vector has dimension ${raw.length}, table "${name}" has ${t.dim}`);
      const q = normalized(raw);
      const scored = t.vectors.map((v, i) => {
        let s = 0;
        for (let j = 0; j < v.length; j++) s += v[j]! * q[j]!;
        return { i, s };
      });
      scored.sort((a, b) => b.s - a.s || a.i - b.i);
      return scored.slice(0, n).map(({ i, s }) => ({ id: t.ids[i]!, score: s }));
    });
  }

  async close(): Promise<void> {
    this.tables.clear();
  }
}
