/**
 * Validating a sweep does the work that does not depend on the trial once, not once per trial
 * (issue 16 item 11: a 10,000-trial sweep took 22.9 s, each trial reading the data files again).
 * Counted, not timed: how often plugins' check() and the dataset's data reads run while an
 * N-trial sweep that varies only a training option is validated.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/builtins.js';
import { loadConfig } from '../../core/config/load.js';
import { validateTrials } from '../../core/config/validate.js';
import type { CheckContext, PluginClass, StageName } from '../../core/types.js';
import { tempDir } from '../helpers/cli.js';

/** The built-in registry with `stage`/`type` wrapped so that its check() and sampleRecord() calls are counted. */
function counting(stages: Array<[StageName, string]>) {
  const registry = builtinRegistry().clone();
  const calls: Record<string, number> = {};
  for (const [stage, type] of stages) {
    const real = registry.get(stage, type)!;
    // A subclass keeps the statics (schema, capabilities); check and sampleRecord are counted.
    const counted = class extends (real as unknown as new (...args: unknown[]) => object) {};
    Object.assign(counted, {
      check: (options: Record<string, unknown>, ctx: CheckContext) => {
        calls[`${type}.check`] = (calls[`${type}.check`] ?? 0) + 1;
        return real.check!(options, ctx);
      },
      ...(real.sampleRecord
        ? {
            sampleRecord: (options: Record<string, unknown>, ctx: Pick<CheckContext, 'resolvePath'>) => {
              calls[`${type}.sampleRecord`] = (calls[`${type}.sampleRecord`] ?? 0) + 1;
              return real.sampleRecord!(options, ctx);
            },
          }
        : {}),
    });
    registry.register(stage, counted as unknown as PluginClass);
  }
  return { registry, calls };
}

const dir = tempDir('ftrun-sweep-checks-');
writeFileSync(join(dir, 'q.jsonl'), ['{"input": "uber ride", "expected": "Travel", "split": "train"}', '{"input": "lunch", "expected": "Meals", "split": "train"}', '{"input": "taxi", "expected": "Travel", "split": "test"}'].join('\n') + '\n');
writeFileSync(join(dir, 'corpus.json'), '["Travel", "Meals"]\n');
writeFileSync(
  join(dir, 'x.yaml'),
  `name: counted
dataset: { type: jsonl, queries: q.jsonl, corpus: corpus.json }
splitter: { type: field, field: split }
model: { id: BAAI/bge-small-en-v1.5 }
backend: { type: ort, intra_op_threads: 2 }
miner: { type: random-negative }
loss: { type: multiple-negatives-ranking }
training: { method: adapter }
`,
);

/** Validate the sweep of `n` learning rates; the counts of each counted call. */
function validateSweepOf(n: number): Record<string, number> {
  const { registry, calls } = counting([
    ['dataset', 'jsonl'],
    ['backend', 'ort'],
    ['splitter', 'field'],
  ]);
  const rates = Array.from({ length: n }, (_, i) => (i + 1) * 1e-4);
  const loaded = loadConfig(join(dir, 'x.yaml'), { env: {}, sets: [`sweep={grid: {training.learning_rate: [${rates.join(', ')}]}}`] });
  expect(validateTrials(loaded, registry)).toHaveLength(n);
  return calls;
}

describe('validating a sweep', () => {
  it("runs each plugin's check() and reads the data once, whatever the number of trials", () => {
    const once = { 'jsonl.check': 1, 'jsonl.sampleRecord': 1, 'ort.check': 1, 'field.check': 1 };
    expect(validateSweepOf(1)).toEqual(once);
    expect(validateSweepOf(40)).toEqual(once);
  });

  it('checks again what a trial changes: a swept plugin option is checked once per value', () => {
    const { registry, calls } = counting([['backend', 'ort']]);
    const loaded = loadConfig(join(dir, 'x.yaml'), { env: {}, sets: ['sweep={grid: {backend.intra_op_threads: [1, 2], training.learning_rate: [1e-4, 2e-4, 3e-4]}}'] });
    expect(validateTrials(loaded, registry)).toHaveLength(6);
    expect(calls).toEqual({ 'ort.check': 2 });
  });
});
