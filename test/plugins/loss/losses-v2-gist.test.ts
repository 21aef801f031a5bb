/**
 * Loss `gist` against sentence-transformers 6.0.0's own GISTEmbedLoss
 * (../shared/fixtures/sentence-transformers/losses-v2.json, see its README): every `gist/*` case (pair
 * and triplet; default, absolute margin 0.1, relative margin 0.5, contrast_anchors =
 * contrast_positives = false), value and ∂value/∂every column, with the guide's embeddings
 * `gist_guide.*` (16-d against the model's 32-d) as batch.guide; the same through the loss seam, where
 * the guide's embeddings come from the vectors the runner computes (text → vector, by kind); the
 * options' defaults against ST's get_config_dict(); and `matryoshka` around gist, which cuts the
 * model's embeddings to each dimension but not the guide's (as sentence-transformers' MatryoshkaLoss
 * around GISTEmbedLoss: only the trained model's forward is truncated).
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import type { Example } from '../../../core/types.js';
import type { LossBatch, LossPlugin } from '../../../core/train/loss.js';
import { LossSeam, type SeededColumn } from '../../../core/train/seam.js';
import Gist, { gistLoss } from '../../../plugins/loss/gist.js';
import Matryoshka from '../../../plugins/loss/matryoshka.js';
import * as helpers from '../../../core/train/loss.js';
import { configAjv } from '../../../core/config/ajv.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared } from '../../helpers/shared.js';
import { close, loadLossesV2, withDefaults, type V2Case, type V2Fixture } from './losses-v2.js';


describeShared('losses-v2: gist (GISTEmbedLoss) against sentence-transformers 6.0', () => {
  let fx: V2Fixture;
  let cases: V2Case[];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    fx = loadLossesV2();
    cases = fx.cases.filter((c) => c.id.startsWith('gist/'));
  });

  it.each(['cpu', 'wasm'])('%s: every gist/* case of the fixture: value and the gradient of every column within 1e-5', async (backend) => {
    await tf.setBackend(backend);
    expect(cases.map((c) => c.id)).toEqual([
      'gist/pair/default', 'gist/pair/absolute_margin0.1', 'gist/pair/relative_margin0.5', 'gist/pair/no_contrast_anchors_positives',
      'gist/triplet/default', 'gist/triplet/absolute_margin0.1', 'gist/triplet/relative_margin0.5', 'gist/triplet/no_contrast_anchors_positives',
    ]);
    const values = new Set<number>();
    for (const c of cases) {
      const loss = (await new Gist(withDefaults(Gist, c.kwargs) as never, makeContext())) as LossPlugin;
      const inputs = c.columns.map((k) => tf.variable(tf.tensor2d(fx.tensors[c.inputs[k]!]!), true, `${backend}_${c.id.replace(/\W/g, '_')}_${k}`));
      const guide = Object.fromEntries(c.columns.map((k) => [k, tf.tensor2d(fx.tensors[c.guide_inputs[k]!]!)]));
      expect(guide.anchor!.shape[1]).toBe(16);
      expect(inputs[0]!.shape[1]).toBe(32);
      const batch = (): LossBatch => ({
        anchor: inputs[0]!,
        positive: inputs[1]!,
        ...(inputs[2] ? { negative: inputs[2], negatives: [inputs[2]] } : {}),
        guide: { anchor: guide.anchor!, positive: guide.positive!, ...(guide.negative ? { negative: guide.negative, negatives: [guide.negative] } : {}) },
      });
      const { value, grads } = tf.variableGrads(() => loss.compute(batch()), inputs);
      const v = value.dataSync()[0]!;
      close([v], [c.value], `${c.id} value`);
      values.add(Math.round(v * 1e4));
      for (const [i, k] of c.columns.entries()) close(grads[inputs[i]!.name]!.dataSync(), c.grads[k]!.flat(), `${c.id} ∂value/∂${k}`);
      tf.dispose([value, ...Object.values(grads), ...inputs, ...Object.values(guide)]);
    }
    // Every option changes the value: the guide's masking is not a no-op.
    expect(values.size).toBe(8);
    await tf.setBackend('cpu');
  });

  it('through the loss seam: the guide vectors the runner computes (text → vector, anchors as queries) reach the loss; a text without one is an error', async () => {
    for (const c of cases.filter((x) => x.id.startsWith('gist/triplet/'))) {
      const loss = (await new Gist(withDefaults(Gist, c.kwargs) as never, makeContext())) as LossPlugin;
      expect(loss.guide).toEqual({ at: 'loss.guide' });
      const rows = fx.tensors[c.inputs.anchor!]!.length;
      const items: Example[] = Array.from({ length: rows }, (_, r) => ({ anchor: `anchor#${r}`, positive: `positive#${r}`, negative: `negative#${r}` }));
      const vec = (tensor: string, text: string) => Float32Array.from(fx.tensors[tensor]![Number(text.split('#')[1])]!);
      const query = new Map(items.map((e) => [e.anchor, vec(c.guide_inputs.anchor!, e.anchor)]));
      const document = new Map([
        ...items.map((e) => [e.positive!, vec(c.guide_inputs.positive!, e.positive!)] as const),
        ...items.map((e) => [e.negative!, vec(c.guide_inputs.negative!, e.negative!)] as const),
      ]);
      loss.guide!.vectors = { dim: 16, query, document };
      const grads: Float32Array[] = [];
      const trainer = {
        embedColumns: (cols: SeededColumn[]) => cols.map((col) => Float32Array.from(col.texts.flatMap((t) => fx.tensors[c.inputs[t.split('#')[0]!]!]![Number(t.split('#')[1])]!))),
        trainColumns(cols: SeededColumn[], grad: (e: Float32Array[]) => Float32Array[]) {
          grads.push(...grad(this.embedColumns(cols)));
        },
      };
      const value = await LossSeam.forExamples(loss, items).backward(trainer, items, 1);
      close([value], [c.value], `${c.id} value through the seam`);
      c.columns.forEach((k, i) => close(grads[i]!, c.grads[k]!.flat(), `${c.id} ∂value/∂${k} through the seam`));
      // A text the guide did not embed: the seam says which.
      const missing = [{ ...items[0]!, anchor: 'not embedded' }, ...items.slice(1)];
      await expect(LossSeam.forExamples(loss, missing).backward(trainer, missing, 1)).rejects.toThrow('the guide model (loss.guide) has no query embedding of the anchor text "not embedded"');
    }
  });

  it('matryoshka around gist: each dimension cuts (and normalizes) the model\'s columns, the guide\'s stay whole; dims [32] is the fixture\'s value', async () => {
    await tf.setBackend('cpu');
    const c = cases.find((x) => x.id === 'gist/triplet/absolute_margin0.1')!;
    const make = async (dims: number[], weights?: number[]) => {
      const o: Record<string, unknown> = { loss: { type: 'gist', ...c.kwargs }, dims, ...(weights ? { weights } : {}) };
      expect(configAjv({ useDefaults: true }).validate(Matryoshka.schema, o)).toBe(true);
      return (await new Matryoshka(o as never, makeContext())) as LossPlugin;
    };
    // The runner finds the guide on the wrapping loss and names its option there.
    expect((await make([32])).guide).toEqual({ at: 'loss.loss.guide' });
    const inputs = c.columns.map((k, i) => tf.variable(tf.tensor2d(fx.tensors[c.inputs[k]!]!), true, `matryoshka_gist_${i}_${k}`));
    const guide = Object.fromEntries(c.columns.map((k) => [k, tf.tensor2d(fx.tensors[c.guide_inputs[k]!]!)]));
    const batch = (x: tf.Tensor2D[], g: Record<string, tf.Tensor2D>): LossBatch => ({
      anchor: x[0]!,
      positive: x[1]!,
      negative: x[2]!,
      negatives: [x[2]!],
      guide: { anchor: g.anchor!, positive: g.positive!, negative: g.negative!, negatives: [g.negative!] },
    });
    // dims [32] (the model's whole dimension): GISTEmbedLoss's own value (cosine ignores the normalization).
    const whole = await make([32]);
    close([tf.tidy(() => whole.compute(batch(inputs, guide)).dataSync()[0]!)], [c.value], 'matryoshka [32] around gist: value');
    // dims [32, 8], weights [1, 0.5]: gist on the normalized 32- and 8-value prefixes, the 16-d guide whole in both.
    const loss = await make([32, 8], [1, 0.5]);
    const o = withDefaults(Gist, c.kwargs) as never;
    const cut = (x: tf.Tensor2D, d: number) => helpers.normalizeRows(tf.slice(x, [0, 0], [-1, d]));
    const byHand = (g: Record<string, tf.Tensor2D>) =>
      tf.add(gistLoss(helpers, batch(inputs.map((x) => cut(x, 32)), g), o), tf.mul(gistLoss(helpers, batch(inputs.map((x) => cut(x, 8)), g), o), 0.5)) as tf.Scalar;
    const got = tf.variableGrads(() => loss.compute(batch(inputs, guide)), inputs);
    const want = tf.variableGrads(() => byHand(guide), inputs);
    close(got.value.dataSync(), [want.value.dataSync()[0]!], 'matryoshka [32, 8] around gist: value');
    for (const x of inputs) close(got.grads[x.name]!.dataSync(), Array.from(want.grads[x.name]!.dataSync()), `matryoshka [32, 8] around gist: ∂value/∂${x.name}`);
    // Cutting the guide to 8 as well would mask other candidates: a different value, so the test tells them apart.
    const cutGuide = Object.fromEntries(Object.entries(guide).map(([k, g]) => [k, cut(g, 8)]));
    const wrong = tf.tidy(() => tf.add(gistLoss(helpers, batch(inputs.map((x) => cut(x, 32)), guide), o), tf.mul(gistLoss(helpers, batch(inputs.map((x) => cut(x, 8)), cutGuide), o), 0.5)).dataSync()[0]!);
    expect(Math.abs(wrong - got.value.dataSync()[0]!)).toBeGreaterThan(1e-3);
    tf.dispose([got.value, want.value, ...Object.values(got.grads), ...Object.values(want.grads), ...inputs, ...Object.values(guide), ...Object.values(cutGuide)]);
  });

  it("the options' defaults and names are sentence-transformers' get_config_dict()", () => {
    const st = cases.find((c) => c.id === 'gist/pair/default')!.config;
    const { gather_across_devices: _g, ...rest } = st;
    expect(withDefaults(Gist, {})).toEqual(rest);
  });
});
