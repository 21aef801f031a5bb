/**
 * Errors a plugin raises during a run get the config location of the option at fault, once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { displayPath } from '../../core/config/located.js';
import { UserError } from '../../core/errors.js';
import { locateError } from '../../core/run/locate-error.js';
import { tempDir } from '../helpers/cli.js';

const dir = tempDir('ftrun-locate-');
const file = join(dir, 'x.yaml');
writeFileSync(file, 'name: x\ndataset:\n  type: synthetic-transactions\n  categories: [Travel, Nope]\nmodel: { path: m }\n');
const loaded = loadConfig(file, { env: {} });
const shown = displayPath(file);

it('locates a message that starts with the option path, at that option', () => {
  const e = locateError(new UserError('E_FILE', 'model.path: file not found: m'), loaded, 'model') as UserError;
  expect(e.message).toBe(`${shown}:5:16 model.path: file not found: m`);
  expect(e.code).toBe('E_FILE');
});

it('falls back to the stage section when the message names no option of it', () => {
  const e = locateError(new UserError('E_DATA', 'the corpus is empty'), loaded, 'dataset') as UserError;
  expect(e.message).toBe(`${shown}:2:1 dataset: the corpus is empty`);
});

it('locates each problem of an error that lists them, without wrapping the list again', () => {
  const thrown = UserError.config([{ file: shown, path: 'dataset.categories[1]', message: 'unknown category "Nope"' }]);
  const e = locateError(thrown, loaded, 'dataset') as UserError;
  expect(e.message).toBe(`Config is not valid, found 1 problem:\n  ${shown}:4:24 dataset.categories[1]: unknown category "Nope"`);
  expect(e.problems).toEqual([{ file: shown, line: 4, col: 24, path: 'dataset.categories[1]', message: 'unknown category "Nope"' }]);
});

it('leaves an error that is located already, and other errors, as they are', () => {
  const located = UserError.at('E_DATA', { file: shown, line: 2, col: 1, path: 'dataset', message: 'x' });
  expect(locateError(located, loaded, 'dataset')).toBe(located);
  const plain = new Error('boom');
  expect(locateError(plain, loaded, 'dataset')).toBe(plain);
});
