/**
 * Ineffective options and layers (issue 16 item 13): an option written in an extended file that
 * the file you run, `--set` or a sweep makes ineffective is dropped and reported as dropped; one
 * written in the file you run or with `--set` stays an error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { validateTrials, validateWithDropped } from '../../core/config/validate.js';
import { UserError } from '../../core/errors.js';
import { tempDir } from '../helpers/cli.js';
import { fakeRegistry } from './fakes.js';

const dir = tempDir('ftrun-dropped-');
const base = join(dir, 'base.yaml');
writeFileSync(
  base,
  `name: base
dataset: { type: jsonl, queries: q.jsonl }
model: { id: org/model }
backend: { type: tfjs }
miner: { type: random-negative }
loss: { type: multiple-negatives-ranking }
training:
  method: adapter
  epochs: 3
  adapter: { kind: linear }
`,
);
const child = (name: string, text: string) => {
  writeFileSync(join(dir, name), `extends: ./base.yaml\n${text}`);
  return join(dir, name);
};
const load = (file: string, sets: string[] = []) => loadConfig(file, { env: {}, sets });
function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e.message;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('options of an extended file made ineffective by a later layer', () => {
  it('the file you run sets max_steps: the extended epochs is dropped, with where it was written', () => {
    const { config, dropped } = validateWithDropped(load(child('a.yaml', 'training: { max_steps: 50 }\n')), fakeRegistry());
    expect(config.training).not.toHaveProperty('epochs');
    expect(config.training.max_steps).toBe(50);
    expect(dropped).toEqual([{ path: 'training.epochs', file: base, line: 9, col: 11, because: 'max_steps (50) sets the length of training and overrides epochs' }]);
  });

  it('--set and a sweep value do the same', () => {
    const file = child('b.yaml', 'name: b\n');
    expect(validateWithDropped(load(file, ['training.max_steps=7']), fakeRegistry()).dropped.map((d) => d.path)).toEqual(['training.epochs']);
    const trials = validateTrials(load(file, ['sweep={grid: {training.max_steps: [5, 10]}}']), fakeRegistry());
    expect(trials.map((t) => [t.config.training.epochs, t.dropped.map((d) => `${d.path}: ${d.because}`)])).toEqual([
      [undefined, ['training.epochs: max_steps (5) sets the length of training and overrides epochs']],
      [undefined, ['training.epochs: max_steps (10) sets the length of training and overrides epochs']],
    ]);
  });

  it('the file you run writing both is an error at its own line', () => {
    const file = child('c.yaml', 'training: { epochs: 2, max_steps: 50 }\n');
    expect(problemsOf(() => validateWithDropped(load(file), fakeRegistry()))).toBe(
      `Config is not valid, found 1 problem:\n  ${file}:2:21 training.epochs: has no effect here: max_steps (50) sets the length of training and overrides epochs; remove it`,
    );
  });

  it('an option of the file you run that --set makes ineffective is an error that says how to drop it with --set', () => {
    expect(problemsOf(() => validateWithDropped(load(base, ['training.max_steps=50']), fakeRegistry()))).toBe(
      `Config is not valid, found 1 problem:\n  ${base}:9:11 training.epochs: has no effect here: max_steps (50) sets the length of training and overrides epochs; remove it (or add --set training.epochs=null)`,
    );
  });

  it('nothing is dropped when nothing is ineffective', () => {
    expect(validateWithDropped(load(child('d.yaml', 'training: { epochs: 1 }\n')), fakeRegistry()).dropped).toEqual([]);
  });
});
