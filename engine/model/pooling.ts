/**
 * Sentence-transformers pooling over a transformer's last hidden state, then optional L2
 * normalization, exactly as `Pooling` + `Normalize` compute them:
 *   cls  = the first token's vector
 *   mean = sum over attended tokens / max(count, 1e-9)
 *   max  = element-wise max over attended tokens (padding set to -1e9 first)
 *   normalize = x / max(‖x‖, 1e-12)
 */

export type PoolingMode = 'cls' | 'mean' | 'max';

export const POOLING_MODES: readonly PoolingMode[] = ['cls', 'mean', 'max'];

/**
 * Pooled (and, with `normalize`, normalized) sentence vectors: poolRows then normalizeRowsHost,
 * one Float32Array per row.
 * @param hidden [batch, seq, dim] row-major
 * @param mask   attention mask, batch rows of seq entries (0/1; a shorter row is padding)
 */
export function poolAndNormalize(
  hidden: Float32Array,
  mask: number[][],
  batch: number,
  seq: number,
  dim: number,
  mode: PoolingMode,
  normalize: boolean,
): Float32Array[] {
  if (hidden.length !== batch * seq * dim) {
    throw new Error(`poolAndNormalize: hidden has ${hidden.length} values, expected ${batch}×${seq}×${dim}`);
  }
  const flat = new Float32Array(batch * seq);
  mask.forEach((m, b) => flat.set(m.slice(0, seq), b * seq));
  const pooled = poolRows(hidden, flat, batch, seq, dim, mode).values;
  const rows = normalize ? normalizeRowsHost(pooled, batch, dim).values : pooled;
  return Array.from({ length: batch }, (_, b) => rows.slice(b * dim, (b + 1) * dim));
}

/**
 * Pooling as training needs it, on the host, with its backward: `poolRows` keeps what
 * `poolRowsBackward` needs (for max pooling, the token each maximum came from). The mask is the
 * flat 0/1 [batch, seq] attention mask.
 */
export interface PooledRows {
  /** [batch, dim] pooled vectors (before Normalize). */
  values: Float32Array;
  /** Max pooling: the token of each maximum, [batch, dim]. */
  argmax?: Int32Array;
}

/** sentence-transformers Pooling over last_hidden_state [B, S, H]. */
export function poolRows(hidden: Float32Array, mask: Float32Array, B: number, S: number, H: number, mode: PoolingMode): PooledRows {
  const values = new Float32Array(B * H);
  if (mode === 'cls') {
    for (let b = 0; b < B; b++) values.set(hidden.subarray(b * S * H, b * S * H + H), b * H);
    return { values };
  }
  if (mode === 'mean') {
    const acc = new Float64Array(H);
    for (let b = 0; b < B; b++) {
      acc.fill(0);
      let count = 0;
      for (let s = 0; s < S; s++) {
        if (!mask[b * S + s]) continue;
        count++;
        const off = (b * S + s) * H;
        for (let k = 0; k < H; k++) acc[k] += hidden[off + k]!;
      }
      const d = Math.max(count, 1e-9);
      for (let k = 0; k < H; k++) values[b * H + k] = acc[k]! / d;
    }
    return { values };
  }
  const argmax = new Int32Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < H; k++) {
      let best = -Infinity;
      let at = 0;
      for (let s = 0; s < S; s++) {
        const v = mask[b * S + s] ? hidden[(b * S + s) * H + k]! : -1e9;
        if (v > best) (best = v), (at = s);
      }
      values[b * H + k] = best;
      argmax[b * H + k] = at;
    }
  }
  return { values, argmax };
}

/** The gradient at last_hidden_state [B, S, H] of the gradient `g` at the pooled vectors [B, H]. */
export function poolRowsBackward(g: Float32Array, p: PooledRows, mask: Float32Array, B: number, S: number, H: number, mode: PoolingMode): Float32Array {
  const out = new Float32Array(B * S * H);
  for (let b = 0; b < B; b++) {
    const gb = g.subarray(b * H, b * H + H);
    if (mode === 'cls') out.set(gb, b * S * H);
    else if (mode === 'mean') {
      let count = 0;
      for (let s = 0; s < S; s++) count += mask[b * S + s] ? 1 : 0;
      const d = Math.max(count, 1e-9);
      for (let s = 0; s < S; s++) {
        if (!mask[b * S + s]) continue;
        const off = (b * S + s) * H;
        for (let k = 0; k < H; k++) out[off + k] = gb[k]! / d;
      }
    } else {
      // max pooling: the gradient goes to the token each maximum came from.
      for (let k = 0; k < H; k++) out[(b * S + p.argmax![b * H + k]!) * H + k] = gb[k]!;
    }
  }
  return out;
}

/** sentence-transformers Normalize row by row: x / max(‖x‖, 1e-12); returns the rows and their norms. */
export function normalizeRowsHost(x: Float32Array, B: number, H: number): { values: Float32Array; norms: Float64Array } {
  const values = new Float32Array(B * H);
  const norms = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let sq = 0;
    for (let k = 0; k < H; k++) sq += x[b * H + k]! * x[b * H + k]!;
    const n = Math.sqrt(sq);
    norms[b] = n;
    const d = Math.max(n, 1e-12);
    for (let k = 0; k < H; k++) values[b * H + k] = x[b * H + k]! / d;
  }
  return { values, norms };
}

/**
 * The gradient at the un-normalized rows `x` of the gradient `g` at normalizeRowsHost(x):
 * (g − y·⟨y, g⟩) / ‖x‖ where ‖x‖ > 1e-12, else g / 1e-12.
 */
export function normalizeRowsBackward(g: Float32Array, x: Float32Array, norms: Float64Array, B: number, H: number): Float32Array {
  const out = new Float32Array(B * H);
  for (let b = 0; b < B; b++) {
    const n = norms[b]!;
    if (n > 1e-12) {
      let dot = 0;
      for (let k = 0; k < H; k++) dot += (x[b * H + k]! / n) * g[b * H + k]!;
      for (let k = 0; k < H; k++) out[b * H + k] = (g[b * H + k]! - (x[b * H + k]! / n) * dot) / n;
    } else for (let k = 0; k < H; k++) out[b * H + k] = g[b * H + k]! / 1e-12;
  }
  return out;
}
