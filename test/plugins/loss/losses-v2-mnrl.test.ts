/**
 * The multiple-negatives-ranking family against sentence-transformers 6.0.0's own loss code
 * (../shared/fixtures/sentence-transformers/losses-v2.json, see its README): every `mnrl/*` and
 * `mnsrl/*` case (value and ∂value/∂every column, pairs, triplets and 4 columns; directions,
 * partition_mode, hardness_mode), the options' defaults against ST's get_config_dict(), and
 * `cached-multiple-negatives-ranking` through the loss seam's GradCache path on the fixture's linear
 * model (`linear/cached_mnrl/*`: value and weight gradient, chunked by the loss's mini_batch_size).
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import type { Example } from '../../../core/types.js';
import type { LossBatch, LossPlugin } from '../../../core/train/loss.js';
import { LossSeam, type SeededColumn } from '../../../core/train/seam.js';
import Cached from '../../../plugins/loss/cached-multiple-negatives-ranking.js';
import Mnrl from '../../../plugins/loss/multiple-negatives-ranking.js';
import Mnsrl from '../../../plugins/loss/multiple-negatives-symmetric-ranking.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared } from '../../helpers/shared.js';
import { close, loadLossesV2, withDefaults, type V2Case, type V2Fixture } from './losses-v2.js';


/** ST's constructor arguments → our options. */
function optionsOf(kwargs: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kwargs)) {
    if (k === 'similarity_fct') o.similarity = v === 'dot_score' ? 'dot' : v === 'cos_sim' ? 'cos' : v;
    else if (k === 'hardness_mode') o.hardness_mode = v ?? 'none';
    else o[k] = v;
  }
  return o;
}

const PLUGINS: Record<string, typeof Mnrl | typeof Mnsrl | typeof Cached> = {
  MultipleNegativesRankingLoss: Mnrl,
  MultipleNegativesSymmetricRankingLoss: Mnsrl,
  CachedMultipleNegativesRankingLoss: Cached,
};

describeShared('losses-v2: the multiple-negatives-ranking family against sentence-transformers 6.0', () => {
  let fx: V2Fixture;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    fx = loadLossesV2();
  });

  const batchOf = (c: V2Case, tensor: (col: string) => tf.Tensor2D): LossBatch => {
    const negs = c.columns.filter((k) => k.startsWith('negative')).map(tensor);
    return { anchor: tensor('anchor'), positive: tensor('positive'), ...(negs.length ? { negative: negs[0], negatives: negs } : {}) };
  };

  it.each(['cpu', 'wasm'])('%s: every mnrl/* and mnsrl/* case of the fixture: value and the gradient of every column within 1e-5', async (backend) => {
    await tf.setBackend(backend);
    const cases = fx.cases.filter((c) => /^(mnrl|mnsrl)\//.test(c.id));
    // pair, triplet, 4col, dot_score, 2 × all directions, q2d+d2q joint, 2 × per_direction, 3 × hardness; mnsrl pair and triplet.
    expect(cases.map((c) => c.id)).toHaveLength(14);
    expect(cases.filter((c) => c.columns.length === 5).length).toBe(5);
    for (const c of cases) {
      const plugin = PLUGINS[c.loss]!;
      const options = withDefaults(plugin, optionsOf(c.kwargs));
      const loss = (await new plugin(options as never, makeContext())) as LossPlugin;
      const inputs = c.columns.map((k) => tf.variable(tf.tensor2d(fx.tensors[c.inputs[k]!]!), true, `${c.id.replace(/\W/g, '_')}_${k}`));
      const byName = new Map(c.columns.map((k, i) => [k, inputs[i]! as unknown as tf.Tensor2D]));
      const { value, grads } = tf.variableGrads(() => loss.compute(batchOf(c, (k) => byName.get(k)!)), inputs);
      close([value.dataSync()[0]!], [c.value], `${c.id} value`);
      for (const [i, k] of c.columns.entries()) {
        const g = grads[inputs[i]!.name]!;
        close(g.dataSync(), c.grads[k]!.flat(), `${c.id} ∂value/∂${k}`);
      }
      tf.dispose([value, ...Object.values(grads), ...inputs]);
    }
    await tf.setBackend('cpu');
  });

  it("the options' defaults and names are sentence-transformers' get_config_dict()", () => {
    const st = fx.cases.find((c) => c.id === 'mnrl/pair')!.config;
    expect(withDefaults(Mnrl, {})).toEqual({
      scale: st.scale,
      similarity: 'cos',
      directions: st.directions,
      partition_mode: st.partition_mode,
      hardness_mode: 'none',
      hardness_strength: st.hardness_strength,
    });
    expect(st.similarity_fct).toBe('cos_sim');
    expect(st.hardness_mode).toBeNull();
    const sym = fx.cases.find((c) => c.id === 'mnsrl/pair')!.config;
    expect(withDefaults(Mnsrl, {})).toEqual({ scale: sym.scale, similarity: 'cos' });
    expect([sym.directions, sym.partition_mode]).toEqual([['query_to_doc', 'doc_to_query'], 'per_direction']);
    const cached = fx.cases.find((c) => c.loss === 'CachedMultipleNegativesRankingLoss')!.config;
    // ST's default chunk is 32 (the fixture passes 2 or 3).
    expect(withDefaults(Cached, {})).toEqual({ ...withDefaults(Mnrl, {}), mini_batch_size: 32 });
    expect(Object.keys(cached)).toContain('mini_batch_size');
  });

  it('cached-multiple-negatives-ranking through the seam (GradCache in chunks of its mini_batch_size) on the linear model: value and weight gradient of ST\'s CachedMNRL', async () => {
    const cases = fx.cases.filter((c) => c.id.startsWith('linear/cached_mnrl/'));
    expect(cases).toHaveLength(5);
    for (const c of cases) {
      const W = fx.tensors[c.model!.weight]!; // [out][in]
      const dim = W.length;
      const x = (text: string): number[] => {
        const [col, row] = text.split('#') as [string, string];
        return fx.tensors[c.model!.input_vectors[col]!]![Number(row)]!;
      };
      const embed = (text: string): number[] => W.map((w) => w.reduce((s, v, j) => s + v * x(text)[j]!, 0));
      const gradW: number[][] = W.map((r) => r.map(() => 0));
      const chunks: number[] = [];
      const trainer = {
        embedColumns(cols: SeededColumn[]): Float32Array[] {
          return cols.map((col) => Float32Array.from(col.texts.flatMap(embed)));
        },
        trainColumns(cols: SeededColumn[], grad: (e: Float32Array[]) => Float32Array[]): void {
          chunks.push(cols[0]!.texts.length);
          const g = grad(this.embedColumns(cols));
          // embedding = W x, so ∂⟨embedding, g⟩/∂W = g xᵀ.
          cols.forEach((col, ci) =>
            col.texts.forEach((t, r) => {
              const xi = x(t);
              for (let o = 0; o < dim; o++) for (let j = 0; j < xi.length; j++) gradW[o]![j]! += g[ci]![r * dim + o]! * xi[j]!;
            }),
          );
        },
      };
      const rows = W.length === 0 ? 0 : fx.tensors[c.model!.input_vectors.anchor!]!.length;
      const negs = c.columns.filter((k) => k.startsWith('negative'));
      const items: Example[] = Array.from({ length: rows }, (_, r) => ({
        anchor: `anchor#${r}`,
        positive: `positive#${r}`,
        negatives: negs.map((k) => `${k}#${r}`),
      }));
      const plugin = PLUGINS[c.loss]!;
      const loss = (await new plugin(withDefaults(plugin, optionsOf(c.kwargs)) as never, makeContext())) as LossPlugin;
      const seam = LossSeam.forExamples(loss, items);
      const mbs = c.kwargs.mini_batch_size as number;
      expect(seam.miniBatchSize, c.id).toBe(mbs);
      const value = await seam.backward(trainer, items, 1);
      close([value], [c.value], `${c.id} value`);
      close(gradW.flat(), c.grads.weight!.flat(), `${c.id} ∂value/∂weight`);
      // Every column was backpropagated chunk by chunk: ⌈8 / mbs⌉ chunks per column.
      const per = Math.ceil(rows / mbs);
      expect(chunks, c.id).toEqual(Array.from({ length: c.columns.length }, () => Array.from({ length: per }, (_, k) => Math.min(mbs, rows - k * mbs))).flat());
    }
  });

  it('training.mini_batch_size, when set, is the chunk; a plain loss has none of its own', async () => {
    const cached = (await new Cached(withDefaults(Cached, { mini_batch_size: 4 }) as never, makeContext())) as LossPlugin;
    expect(LossSeam.forExamples(cached, [], 2).miniBatchSize).toBe(2);
    expect(LossSeam.forExamples(cached, []).miniBatchSize).toBe(4);
    const plain = (await new Mnrl(withDefaults(Mnrl, {}) as never, makeContext())) as LossPlugin;
    expect(LossSeam.forExamples(plain, []).miniBatchSize).toBe(0);
  });
});
