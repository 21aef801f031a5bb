/**
 * End to end: loss `gist` (GISTEmbedLoss) trains from the CLI on the fixture model and the
 * transactions data, on the ort and tfjs (wasm) engines. Its guide is the base model by default (the
 * base encoder, loaded once, embeds the training texts before training and is then evaluated);
 * `guide: {path: <the same model>}` loads it again as its own encoder and takes exactly the same steps;
 * a different guide (the same weights with mean pooling) masks other candidates, so the steps differ.
 * `matryoshka` wraps it (dims [64] = plain gist; the guide's embeddings are never cut).
 * Mistakes in its options are config errors at their line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets, readJsonl } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const COMMON = tinyBertSets({ maxSteps: 4 });
const lines = readJsonl;

async function train(loss: string, backend = '{type: ort, intra_op_threads: 1}') {
  const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...COMMON, '--set', `backend=${backend}`, '--set', `loss=${loss}`]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(/error/i);
  const summary = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
  const events = lines(join(summary.run_dir, 'events.jsonl'));
  const steps = events.filter((e) => e.type === 'train_step') as Array<{ loss: number; grad_norm: number }>;
  const stages = events.filter((e) => e.type === 'stage_start').map((e) => e.stage as string);
  const encoders = Object.keys((JSON.parse(readFileSync(join(summary.run_dir, 'env.json'), 'utf8')) as { encoders: Record<string, unknown> }).encoders);
  return { summary, steps, stages, encoders };
}

function sameSteps(a: Array<{ loss: number; grad_norm: number }>, b: Array<{ loss: number; grad_norm: number }>, what: string): void {
  expect(a.length, what).toBe(4);
  expect(b.length, what).toBe(4);
  a.forEach((p, i) => {
    expect(Math.abs(b[i]!.loss - p.loss) / p.loss, `${what}: step ${i + 1} loss`).toBeLessThan(1e-5);
    expect(Math.abs(b[i]!.grad_norm - p.grad_norm) / p.grad_norm, `${what}: step ${i + 1} grad norm`).toBeLessThan(1e-5);
  });
}

describeShared('loss gist from the CLI', () => {
  it('trains on ort with the base model as guide; guide {path: <the same model>} takes the same steps, another guide others', async () => {
    const base = await train('{type: gist}');
    // The base encoder is loaded once: it embeds the guide's texts, then is evaluated.
    expect(base.stages.filter((s) => s === 'load_base')).toHaveLength(1);
    expect(base.stages.slice(base.stages.indexOf('load_base'), base.stages.indexOf('train'))).toEqual(['load_base', 'embed_guide', 'evaluate_base']);
    expect(base.encoders).toEqual(['base', 'finetuned']);
    for (const s of base.steps) expect(Number.isFinite(s.loss) && s.loss > 0 && s.grad_norm > 0).toBe(true);
    const explicit = await train(`{type: gist, guide: {path: ${TINY_BERT}}}`);
    // Its own encoder, loaded and released before the base model is loaded for evaluation.
    expect(explicit.encoders).toEqual(['guide', 'base', 'finetuned']);
    expect(explicit.stages.slice(explicit.stages.indexOf('load_guide'), explicit.stages.indexOf('train'))).toEqual(['load_guide', 'embed_guide', 'load_base', 'evaluate_base']);
    sameSteps(base.steps, explicit.steps, 'guide {path: <the model>} against the default guide');
    expect(explicit.summary.models.finetuned).toEqual(base.summary.models.finetuned);
    // The same weights pooled otherwise judge other candidates false negatives: other losses.
    const other = await train(`{type: gist, guide: {path: ${TINY_BERT}, pooling: mean}}`);
    expect(other.steps).toHaveLength(4);
    expect(Math.abs(other.steps[0]!.loss - base.steps[0]!.loss) / base.steps[0]!.loss).toBeGreaterThan(1e-3);
  }, 600_000);

  it('trains on tfjs (wasm) too: the default guide and guide {path: <the same model>} take the same steps', async () => {
    const tfjs = '{type: tfjs, device: wasm}';
    const base = await train('{type: gist}', tfjs);
    for (const s of base.steps) expect(Number.isFinite(s.loss) && s.loss > 0 && s.grad_norm > 0).toBe(true);
    const explicit = await train(`{type: gist, guide: {path: ${TINY_BERT}}}`, tfjs);
    sameSteps(base.steps, explicit.steps, 'tfjs: guide {path: <the model>} against the default guide');
  }, 600_000);

  it('matryoshka wraps gist: dims [64] takes the plain gist steps (the guide found on the wrapper); [64, 16] others; its guide options are checked at loss.loss.guide', async () => {
    const plain = await train('{type: gist}');
    const full = await train('{type: matryoshka, loss: {type: gist}, dims: [64]}');
    sameSteps(plain.steps, full.steps, 'matryoshka dims [64] around gist against gist');
    expect(full.stages.slice(full.stages.indexOf('load_base'), full.stages.indexOf('train'))).toEqual(['load_base', 'embed_guide', 'evaluate_base']);
    const nested = await train(`{type: matryoshka, loss: {type: gist, guide: {path: ${TINY_BERT}}}, dims: [64, 16]}`);
    expect(nested.encoders).toEqual(['guide', 'base', 'finetuned']);
    expect(nested.steps).toHaveLength(4);
    for (const s of nested.steps) expect(Number.isFinite(s.loss) && s.loss > 0 && s.grad_norm > 0).toBe(true);
    expect(nested.steps[0]!.loss).toBeGreaterThan(plain.steps[0]!.loss * 1.5);
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${BGE}\nloss:\n  type: matryoshka\n  dims: [64]\n  loss:\n    type: gist\n    guide:\n      path: ./no-such-model\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`exp.yaml:8:13 loss.loss.guide.path: no such directory: ${join(dir, 'no-such-model')}\n`);
  }, 600_000);

  it('refuses an unknown margin_strategy, a guide path that does not exist and a guide without a model, at their lines', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    const validate = async (loss: string) => {
      writeFileSync(file, `extends: ${BGE}\nloss:\n  type: gist\n${loss}`);
      const r = await cli(['validate', file]);
      expect(r.code, r.stdout).toBe(2);
      return r.stderr;
    };
    expect(await validate('  margin_strategy: relativ\n  margin: 0.1\n')).toMatch(
      /exp\.yaml:4:\d+ loss\.margin_strategy: invalid value "relativ"\. Did you mean "relative"\? Allowed: absolute, relative\.\n/,
    );
    expect(await validate('  guide:\n    path: ./no-such-model\n')).toContain(`exp.yaml:5:11 loss.guide.path: no such directory: ${join(dir, 'no-such-model')}\n`);
    expect(await validate('  guide: { query_prompt: "query: " }\n')).toMatch(
      /exp\.yaml:4:\d+ loss\.guide: missing "id" \(a hub model id\), "path" \(a model directory\) or "bundled" \(the guide model; leave guide out to guide with the base model\)\n/,
    );
    // With margin 0 both strategies give the same threshold: margin_strategy alone has no effect.
    expect(await validate('  margin_strategy: relative\n')).toMatch(
      /exp\.yaml:4:\d+ loss\.margin_strategy: has no effect here: margin is 0, so absolute and relative give the same threshold; remove it\n/,
    );
    // A run refuses the same before it loads anything (exit 2).
    const r = await cli(['run', BGE, '--runs-dir', tempDir(), '--quiet', ...COMMON, '--set', 'loss={type: gist, margin_strategy: relativ}']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('loss.margin_strategy: invalid value "relativ". Did you mean "relative"? Allowed: absolute, relative.');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
