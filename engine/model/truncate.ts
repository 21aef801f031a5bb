/**
 * sentence-transformers' `truncate_dim`: an encoder whose every embedding is cut to its first
 * `dim` values, as SentenceTransformer(truncate_dim=…).encode does after all modules (Normalize
 * included) ran — the prefix is not re-normalized, as there; cosine similarity, which every ftrun
 * store ranks by, is unaffected by that.
 */
import { UserError } from '../../core/errors.js';
import type { Encoder } from '../../core/types.js';

/** The first `dim` values of a vector (a copy). */
export function truncateEmbedding(v: Float32Array, dim: number): Float32Array {
  return v.slice(0, dim);
}

/**
 * `encoder` with its embeddings truncated to `dim` values (`dim` undefined: `encoder` itself). A
 * `dim` over the encoder's dimension is refused, naming `model.truncate_dim` and the valid range.
 */
export function truncatingEncoder(encoder: Encoder, dim: number | undefined, where = 'model.truncate_dim'): Encoder {
  if (dim === undefined) return encoder;
  if (!Number.isInteger(dim) || dim < 1 || dim > encoder.dim) {
    throw new UserError('E_CONFIG', `${where}: ${dim} is more than the model's embedding dimension ${encoder.dim}; valid: integers from 1 to ${encoder.dim}`);
  }
  return {
    dim,
    info: { ...encoder.info, truncate_dim: dim },
    encode: async (texts, opts) => (await encoder.encode(texts, opts)).map((v) => truncateEmbedding(v, dim)),
    dispose: () => encoder.dispose(),
  };
}
