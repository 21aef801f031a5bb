/**
 * The embedding cache of adapter training: the frozen encoder embeds every distinct text once,
 * and the vectors are kept in the run (`<adapter dir>/cache/query.safetensors` and
 * `document.safetensors`) so that a resumed run reuses them. Each file holds one float32 matrix
 * `embeddings` [n, dim]; its metadata lists the SHA-256 (first 32 hex digits) of each row's text
 * and a fingerprint of the encoder. A file made by another encoder is ignored (and replaced).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../core/safetensors.js';
import type { Encoder, TextKind } from '../../core/types.js';

export function textKey(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}

/** A fingerprint of an encoder: its dimension and the facts it reports, keys sorted. */
export function encoderFingerprint(encoder: Encoder): string {
  const stable = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, stable((v as Record<string, unknown>)[k])]))
      : v;
  return createHash('sha256').update(JSON.stringify({ dim: encoder.dim, info: stable(encoder.info) })).digest('hex').slice(0, 32);
}

export interface CacheStats {
  cached: number;
  encoded: number;
  seconds: number;
}

/**
 * Vectors for `texts` (deduplicated) of one kind: read from the cache file when present and made by
 * the same encoder, the missing ones encoded and the file rewritten.
 */
export async function cachedEmbeddings(
  dir: string,
  encoder: Encoder,
  kind: TextKind,
  texts: string[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ vectors: Map<string, Float32Array>; stats: CacheStats }> {
  const t0 = performance.now();
  const file = join(dir, `${kind}.safetensors`);
  const fingerprint = encoderFingerprint(encoder);
  const byKey = new Map<string, Float32Array>();
  if (existsSync(file)) {
    try {
      const t = readSafetensors(file).get('embeddings');
      const { metadata } = readSafetensorsHeader(file);
      if (t && metadata.fingerprint === fingerprint && t.shape[1] === encoder.dim) {
        const keys = (metadata.keys ?? '').split(',').filter((k) => k.length > 0);
        keys.forEach((k, i) => byKey.set(k, t.data.subarray(i * encoder.dim, (i + 1) * encoder.dim)));
      }
    } catch {
      /* an unreadable cache is rebuilt */
    }
  }
  const unique = [...new Set(texts)];
  const missing = unique.filter((t) => !byKey.has(textKey(t)));
  if (missing.length > 0) {
    const vecs = await encoder.encode(missing, { kind, ...(onProgress ? { onProgress } : {}) });
    missing.forEach((t, i) => {
      const v = vecs[i]!;
      if (v.length !== encoder.dim) throw new Error(`encoder returned a ${v.length}-d vector, expected ${encoder.dim}-d`);
      byKey.set(textKey(t), v);
    });
    const keys = [...byKey.keys()];
    const data = new Float32Array(keys.length * encoder.dim);
    keys.forEach((k, i) => data.set(byKey.get(k)!, i * encoder.dim));
    writeSafetensors(file, new Map([['embeddings', { shape: [keys.length, encoder.dim], data }]]), { fingerprint, keys: keys.join(',') });
  }
  const vectors = new Map<string, Float32Array>();
  for (const t of unique) vectors.set(t, byKey.get(textKey(t))!);
  return { vectors, stats: { cached: unique.length - missing.length, encoded: missing.length, seconds: (performance.now() - t0) / 1000 } };
}
