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
 * @param hidden [batch, seq, dim] row-major
 * @param mask   attention mask, batch rows of seq entries (0/1)
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
  const out: Float32Array[] = [];
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    const base = b * seq * dim;
    const m = mask[b]!;
    if (mode === 'cls') {
      for (let d = 0; d < dim; d++) acc[d] = hidden[base + d]!;
    } else if (mode === 'mean') {
      acc.fill(0);
      let count = 0;
      for (let t = 0; t < seq; t++) {
        if (!m[t]) continue;
        count++;
        const off = base + t * dim;
        for (let d = 0; d < dim; d++) acc[d] += hidden[off + d]!;
      }
      const denom = Math.max(count, 1e-9);
      for (let d = 0; d < dim; d++) acc[d] /= denom;
    } else {
      acc.fill(-Infinity);
      for (let t = 0; t < seq; t++) {
        const off = base + t * dim;
        for (let d = 0; d < dim; d++) {
          const v = m[t] ? hidden[off + d]! : -1e9;
          if (v > acc[d]!) acc[d] = v;
        }
      }
    }
    const vec = new Float32Array(dim);
    let scale = 1;
    if (normalize) {
      let sq = 0;
      for (let d = 0; d < dim; d++) sq += acc[d]! * acc[d]!;
      scale = 1 / Math.max(Math.sqrt(sq), 1e-12);
    }
    for (let d = 0; d < dim; d++) vec[d] = acc[d]! * scale;
    out.push(vec);
  }
  return out;
}
