/**
 * Hard negatives from the data, end to end: the shipped Cohere-format example
 * (configs/cohere-hard-negatives.yaml, its data unchanged) trains on tiny-bert with
 * multiple-negatives-ranking on the ort backend, the records' hard negatives read as negative
 * columns; validate names a record whose negatives field is missing or mistyped at its line.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const COHERE = join(ROOT, 'configs', 'cohere-hard-negatives.yaml');
const DATA = join(ROOT, 'configs', 'data', 'cohere-hard-negatives.jsonl');
const TINY = ['--set', `model={path: ${TINY_BERT}}`, '--set', 'backend={type: ort, intra_op_threads: 1}', '--set', 'training.learning_rate=1e-3'];

const events = (runDir: string) =>
  readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function run(extra: string[]): Promise<{ runDir: string; events: Array<Record<string, unknown>>; stderr: string }> {
  const r = await cli(['run', COHERE, '--runs-dir', tempDir(), '--json', '--quiet', ...TINY, ...extra]);
  // Nothing but, with batches of 8, the small-batch warning (its text is checked below).
  expect(r.stderr.replace(/^warning: no-duplicates batches average [\d.]+ examples instead of 8: [^\n]*\n/, '')).toBe('');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.stdout) as { run_dir: string; status: string };
  expect(summary.status).toBe('ok');
  return { runDir: summary.run_dir, events: events(summary.run_dir), stderr: r.stderr };
}

const stepLosses = (ev: Array<Record<string, unknown>>) => ev.filter((e) => e.type === 'train_step').map((e) => e.loss as number);

describeShared('configs/cohere-hard-negatives.yaml on tiny-bert (ort)', () => {
  it('trains from the Cohere file as shipped: every example carries its hard negatives; the corpus is the 27 distinct passages', async () => {
    const { events: ev, stderr } = await run([]);
    expect(ev.find((e) => e.type === 'split')).toMatchObject({ train: 43, test: 11, eval: 11, corpus: 27 });
    // Each example's query, passage and 2 hard negatives are kept apart in a batch (as sentence-transformers'
    // no-duplicates sampler checks every column): 3 of the 27 passages an example, so batches of 8 come out short.
    expect(stderr).toBe(
      "warning: no-duplicates batches average 4.8 examples instead of 8: the examples repeat texts (e.g. few distinct positives, or negatives that are other examples' positives), which cannot share a batch\n",
    );
    expect(ev.find((e) => e.type === 'mined')).toMatchObject({ examples: 43, shapes: ['labelled', 'pairs', 'triplets'] });
    const losses = stepLosses(ev);
    expect(losses.length).toBeGreaterThan(0);
    for (const l of losses) expect(Number.isFinite(l)).toBe(true);
  }, 180_000);

  it('the hard negatives are negative columns: with one example a batch, the loss is positive with them and exactly 0 without', async () => {
    // One (query, passage) pair alone: MNRL's softmax has only the passage, so its loss is 0
    // unless the hard negatives join it as negative columns.
    // A small learning rate keeps the model near the base one, so no loss rounds to 0 in float32.
    const small = ['--set', 'training.batch_size=1', '--set', 'dataset.limit=6', '--set', 'training.learning_rate=1e-6'];
    const withNegatives = stepLosses((await run(small)).events);
    const without = stepLosses((await run([...small, '--set', 'dataset.negatives=null'])).events);
    expect(withNegatives.length).toBeGreaterThan(1);
    expect(without).toHaveLength(withNegatives.length);
    for (const l of withNegatives) expect(l).toBeGreaterThan(0);
    expect(Math.max(...withNegatives)).toBeGreaterThan(1);
    for (const l of without) expect(l).toBe(0);
  }, 240_000);
});

describeShared('configs/scored-pairs.yaml and configs/distill-margins.yaml on tiny-bert (ort)', () => {
  const shipped = async (name: string) => {
    const r = await cli(['run', join(ROOT, 'configs', `${name}.yaml`), '--runs-dir', tempDir(), '--json', '--quiet', ...TINY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return events((JSON.parse(r.stdout) as { run_dir: string }).run_dir);
  };

  it('cosent trains on the scored pairs as shipped (a score on every example: cosent fails a batch without)', async () => {
    const ev = await shipped('scored-pairs');
    expect(ev.find((e) => e.type === 'split')).toMatchObject({ train: 132, test: 0, eval: 10, corpus: 27 });
    expect(ev.find((e) => e.type === 'mined')).toMatchObject({ examples: 132, shapes: ['labelled', 'pairs'] });
    expect(stepLosses(ev).length).toBeGreaterThan(0);
  }, 180_000);

  it('margin-mse trains on the teacher margins as shipped (a negative column and a teacher value on every example)', async () => {
    const ev = await shipped('distill-margins');
    expect(ev.find((e) => e.type === 'split')).toMatchObject({ train: 88, test: 0, eval: 10, corpus: 27 });
    expect(ev.find((e) => e.type === 'mined')).toMatchObject({ examples: 88, shapes: ['labelled', 'pairs', 'triplets'] });
    expect(stepLosses(ev).length).toBeGreaterThan(0);
  }, 180_000);
});

describe('validate reads the negatives of every record', () => {
  const setup = (lines: string[]) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'data.jsonl'), lines.join('\n') + '\n');
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${COHERE}\ndataset:\n  queries: data.jsonl\n`);
    return file;
  };
  const good = readFileSync(DATA, 'utf8').trim().split('\n');

  it('a record without the negatives field fails at its line', async () => {
    const bad = JSON.parse(good[2]!) as Record<string, unknown>;
    delete bad.hard_negatives;
    const file = setup([good[0]!, good[1]!, JSON.stringify(bad), good[3]!]);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `dataset.queries: ${join(file, '..', 'data.jsonl')}:3: missing field "hard_negatives" (fields present: query, relevant_passages); set dataset.negatives to use another field`,
    );
  });

  it('a record whose negatives are not texts fails at its line, naming the element', async () => {
    const bad = JSON.parse(good[1]!) as Record<string, unknown>;
    bad.hard_negatives = ['a passage', 7];
    const file = setup([good[0]!, JSON.stringify(bad)]);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `dataset.queries: ${join(file, '..', 'data.jsonl')}:2: field "hard_negatives" (negatives) must be a string or a list of strings, got a list with number at index 1`,
    );
  });

  it('a triplet loss with miner none needs dataset.negatives', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${COHERE}\ndataset:\n  negatives: null\nloss:\n  type: triplet\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "loss.type: loss triplet needs triplets examples; miner none makes them only from the data's own negatives, and dataset.negatives is not set. Set dataset.negatives (the field holding each record's negatives), or use a miner that mines negatives: random-negative, hard-negative.",
    );
  });
});

describeShared('a loss that needs negatives, with miner none and a record without any', () => {
  /** The Cohere file with records `empty` (0-based) given no hard negatives, and an experiment reading it with `loss`. */
  const setup = (empty: number[], loss: string) => {
    const dir = tempDir();
    const lines = readFileSync(DATA, 'utf8').trim().split('\n');
    for (const i of empty) lines[i] = JSON.stringify({ ...(JSON.parse(lines[i]!) as Record<string, unknown>), hard_negatives: [] });
    writeFileSync(join(dir, 'data.jsonl'), lines.join('\n') + '\n');
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${COHERE}\ndataset:\n  queries: data.jsonl\n  negatives: hard_negatives\nloss:\n  type: ${loss}\n`);
    return file;
  };
  const FIXES =
    "Add negatives to every record; or let a miner add them: miner random-negative or hard-negative with explicit_negatives: first (the default: each record's own negatives, then a mined one); or use a loss that does not need negatives (e.g. multiple-negatives-ranking)";

  it('is a data error at dataset.negatives naming the record, the loss and the fixes, before any model loads', async () => {
    const file = setup([4], 'triplet');
    const runs = tempDir();
    const r = await cli(['run', file, '--runs-dir', runs, '--quiet', ...TINY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_DATA]: ${file}:4:14 dataset.negatives: loss triplet needs a negative on every training example, and with miner none the negatives are each record's own, but 1 of 43 training records has none: data.jsonl:5. ${FIXES}\n`,
    );
    const [runDir] = readdirSync(join(runs, 'cohere-hard-negatives')).map((d) => join(runs, 'cohere-hard-negatives', d));
    const env = JSON.parse(readFileSync(join(runDir!, 'env.json'), 'utf8')) as { encoders: Record<string, unknown>; status: string };
    expect(env.status).toBe('failed');
    expect(env.encoders).toEqual({}); // no model was loaded
  }, 120_000);

  it('names several records; a loss that reads triplets through matryoshka is checked too; a miner that adds negatives trains', async () => {
    const all = readFileSync(DATA, 'utf8').trim().split('\n').map((_, i) => i);
    const several = await cli(['run', setup(all, 'triplet'), '--runs-dir', tempDir(), '--quiet', ...TINY]);
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(
      /dataset\.negatives: loss triplet needs a negative on every training example, and with miner none the negatives are each record's own, but 43 of 43 training records have none: (data\.jsonl:\d+, ){4}data\.jsonl:\d+ and 38 more\. /,
    );
    const wrapped = await cli(['run', setup([4], 'matryoshka\n  loss: { type: triplet }\n  dims: [64, 32]'), '--runs-dir', tempDir(), '--quiet', ...TINY]);
    expect(wrapped.code).toBe(2);
    expect(wrapped.stderr).toContain('dataset.negatives: loss matryoshka needs a negative on every training example');
    const mined = await cli(['run', setup([4], 'triplet'), '--runs-dir', tempDir(), '--quiet', '--json', ...TINY, '--set', 'miner.type=random-negative']);
    expect(mined.code, mined.stderr).toBe(0);
  }, 240_000);
});
