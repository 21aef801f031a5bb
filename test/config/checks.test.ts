import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKS, runChecks } from '../../core/config/checks.js';
import { loadConfig } from '../../core/config/load.js';
import { schemaPasses } from '../../core/config/validate.js';
import { formatProblem } from '../../core/errors.js';
import type { ExperimentConfig } from '../../core/config/types.js';
import { tempDir } from '../helpers/cli.js';
import { fakeRegistry } from './fakes.js';

const F = 'test/fixtures/config/checks.yaml';

/** Run the checks on the filled config of checks.yaml (it passes both schema passes). */
function setup(edit: (cfg: ExperimentConfig) => void = () => {}) {
  const loaded = loadConfig(F, { env: {} });
  const registry = fakeRegistry();
  const { config, problems } = schemaPasses(loaded, registry);
  expect(problems).toEqual([]);
  edit(config);
  const run = (name?: string) =>
    runChecks(config, loaded, registry, name ? CHECKS.filter((c) => c.name === name) : CHECKS).map((p) => formatProblem(p));
  return { config, run };
}

describe('cross-stage checks', () => {
  it('every check has a unique name and a description', () => {
    const names = CHECKS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(['model-source', 'bundled-model', 'primary-metric', 'evaluate-dims', 'evaluate-sets', 'model-truncate-dim', 'finetuned-needs-training', 'training-needs-loss', 'early-stopping', 'loss-shape', 'loss-values', 'backend-can-train', 'backend-trains-loss', 'one-mini-batch-size', 'model-directory', 'plugin-options']);
    for (const c of CHECKS) expect(c.description.length).toBeGreaterThan(10);
  });

  it('reports all failing checks together', () => {
    const { run } = setup();
    expect(run()).toEqual([
      `${F}:10:12 evaluate.primary: k 10 is not in evaluate.k. Did you mean "mrr@1"? Choices: mrr@1, mrr@3, mrr@5, recall@1, recall@3, recall@5, ndcg@1, ndcg@3, ndcg@5, map@1, map@3, map@5, precision@1, precision@3, precision@5, hit@1, hit@3, hit@5.`,
      `${F}:5:15 loss.type: loss batch-semi-hard-triplet needs labelled examples; miner none provides: (nothing). Miners that provide labelled: labelled.`,
      `${F}:6:18 backend.type: backend ort cannot train (training.method: full). Backends that can: narrow, tfjs.`,
    ]);
  });

  it('primary-metric: form, metric and k', () => {
    const { config, run } = setup();
    config.evaluate.metrics = ['mrr', 'recall'];
    config.evaluate.primary = 'mrr';
    expect(run('primary-metric')).toEqual([
      `${F}:10:12 evaluate.primary: "mrr" is not of the form <metric>@<k>. Did you mean "mrr@1"? Choices: mrr@1, mrr@3, mrr@5, recall@1, recall@3, recall@5.`,
    ]);
    config.evaluate.primary = 'recall@3';
    expect(run('primary-metric')).toEqual([]);
  });

  it('finetuned-needs-training', () => {
    const { run } = setup((c) => (c.training.method = 'none'));
    expect(run('finetuned-needs-training')).toEqual([`${F}:9:19 evaluate.compare[1]: "finetuned" needs a trained model, but training.method is "none"`]);
    expect(setup().run('finetuned-needs-training')).toEqual([]);
  });

  it('training-needs-loss is located at training.method', () => {
    const { run } = setup((c) => delete c.loss);
    expect(run('training-needs-loss')).toEqual([
      `${F}:7:21 loss: training.method "full" needs a loss. Available: batch-semi-hard-triplet, multiple-negatives-ranking.`,
    ]);
    expect(run('loss-shape')).toEqual([]);
  });

  it('loss-shape passes when the miner provides the shape', () => {
    expect(setup((c) => (c.miner = { type: 'labelled' })).run('loss-shape')).toEqual([]);
    expect(setup((c) => (c.loss = { type: 'multiple-negatives-ranking' })).run('loss-shape')).toEqual([
      `${F}:5:15 loss.type: loss multiple-negatives-ranking needs pairs examples; miner none provides: (nothing). Miners that provide pairs: random-negative.`,
    ]);
    expect(setup((c) => (c.training.method = 'none')).run('loss-shape')).toEqual([]);
  });

  it('backend-can-train passes for a backend that can train, or without full training', () => {
    expect(setup((c) => (c.backend = { type: 'tfjs' })).run('backend-can-train')).toEqual([]);
    expect(setup((c) => (c.training.method = 'adapter')).run('backend-can-train')).toEqual([]);
  });

  it('backend-trains-loss: a training backend that lists its losses refuses others', () => {
    expect(setup((c) => (c.backend = { type: 'narrow' })).run('backend-trains-loss')).toEqual([
      `${F}:5:15 loss.type: backend narrow does not train with loss batch-semi-hard-triplet; its trainer implements: multiple-negatives-ranking. Backends that can: tfjs.`,
    ]);
    expect(setup((c) => (c.backend = { type: 'tfjs' })).run('backend-trains-loss')).toEqual([]);
    expect(setup((c) => ((c.backend = { type: 'narrow' }), (c.training.method = 'adapter'))).run('backend-trains-loss')).toEqual([]);
  });

  it('plugin-options: a plugin\'s own check(), located at the option (or its section when not written)', () => {
    expect(setup((c) => (c.backend = { type: 'narrow', provider: 'cuda' })).run('plugin-options')).toEqual([
      `${F}:6:1 backend.provider: cuda is not installed`,
    ]);
    expect(setup((c) => (c.backend = { type: 'narrow', provider: 'cpu' })).run('plugin-options')).toEqual([]);
  });

  it('evaluate-dims: each of evaluate.dims is at most model.truncate_dim (the encoder cuts to it first), at its line with the valid range', () => {
    const file = join(tempDir(), 'checks.yaml');
    writeFileSync(
      file,
      readFileSync(F, 'utf8').replace('model: { id: org/m }', 'model: { id: org/m, truncate_dim: 16 }').replace('  primary: mrr@10\n', '  primary: mrr@1\n  dims: [32, 16, 8, 17]\n'),
    );
    const loaded = loadConfig(file, { env: {} });
    const registry = fakeRegistry();
    const { config, problems } = schemaPasses(loaded, registry);
    expect(problems).toEqual([]);
    const run = () => runChecks(config, loaded, registry, CHECKS.filter((c) => c.name === 'evaluate-dims')).map((p) => formatProblem(p));
    expect(run()).toEqual([
      `${file}:11:10 evaluate.dims[0]: 32 is more than model.truncate_dim 16: the model's embeddings are cut to their first 16 values before evaluation; valid: integers from 1 to 16`,
      `${file}:11:21 evaluate.dims[3]: 17 is more than model.truncate_dim 16: the model's embeddings are cut to their first 16 values before evaluation; valid: integers from 1 to 16`,
    ]);
    delete config.model.truncate_dim;
    expect(run()).toEqual([]);
  });

  it('model-source: neither id nor path', () => {
    const { run } = setup((c) => delete c.model.id);
    expect(run('model-source')).toEqual([`${F}:3:1 model: missing "id" (a hub model id), "path" (a model directory) or "bundled" (use-lite)`]);
  });
});
