/**
 * Dropout keep-masks for the ort training graphs, drawn on the host exactly as the tfjs encoder
 * draws them (plugins/backend/tfjs/ops.ts `dropout`: one mulberry32 stream per dropout site, seeded with
 * the forward pass's seed + the site's index, values 0 or 1/(1 − p) in row-major order), so both
 * engines apply the same dropout and a checkpoint moves between them without a change of course.
 *
 * The tfjs encoder computes the last layer for the [CLS] rows only when the model pools by CLS;
 * its masks for that layer are then [B, heads, 1, S] and [B, H]. Here the layer runs on every
 * row, so those masks go to the CLS rows, and the other rows (whose outputs nothing reads) keep
 * everything.
 */
import { mixSeed } from '../../../core/rng.js';
import type { BertConfig } from '../../../engine/model/bert-config.js';

/** mulberry32(mixSeed(seed)) inlined: `count` values, 0 where the draw is below `rate`, else 1/(1 − rate). */
function keepMask(count: number, rate: number, seed: number): Float32Array {
  const scale = 1 / (1 - rate);
  const m = new Float32Array(count);
  let a = mixSeed(seed) >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    m[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 >= rate ? scale : 0;
  }
  return m;
}

/** Keep-masks by input name (mask.embeddings, mask.<l>.probs, mask.<l>.attention_output, mask.<l>.output). */
export function dropoutMasks(cfg: BertConfig, B: number, S: number, seed: number, clsLastLayer: boolean): Map<string, Float32Array> {
  const H = cfg.hiddenSize;
  const nh = cfg.numHeads;
  const out = new Map<string, Float32Array>();
  const hiddenRate = cfg.hiddenDropout;
  const attnRate = cfg.attentionDropout;
  let s = seed;
  const draw = (count: number, rate: number): Float32Array => keepMask(count, rate, s++);
  if (hiddenRate > 0) out.set('mask.embeddings', draw(B * S * H, hiddenRate));
  for (let l = 0; l < cfg.numLayers; l++) {
    const first = clsLastLayer && l === cfg.numLayers - 1;
    if (attnRate > 0) {
      if (!first) out.set(`mask.${l}.probs`, draw(B * nh * S * S, attnRate));
      else {
        // [B, nh, 1, S] → row 0 of each [S, S] block.
        const small = draw(B * nh * S, attnRate);
        const m = new Float32Array(B * nh * S * S).fill(1);
        for (let bh = 0; bh < B * nh; bh++) m.set(small.subarray(bh * S, bh * S + S), bh * S * S);
        out.set(`mask.${l}.probs`, m);
      }
    }
    if (hiddenRate > 0) {
      for (const site of ['attention_output', 'output']) {
        if (!first) out.set(`mask.${l}.${site}`, draw(B * S * H, hiddenRate));
        else {
          const small = draw(B * H, hiddenRate);
          const m = new Float32Array(B * S * H).fill(1);
          for (let b = 0; b < B; b++) m.set(small.subarray(b * H, b * H + H), b * S * H);
          out.set(`mask.${l}.${site}`, m);
        }
      }
    }
  }
  return out;
}
