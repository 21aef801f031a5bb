/**
 * File paths mean what they say where they are written: a relative path in an extended file
 * resolves against that file's directory (as tsconfig, ESLint and Hydra do), one in the file you
 * run or in --set against the file you run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/builtins.js';
import { configAjv } from '../../core/config/ajv.js';
import { loadConfig } from '../../core/config/load.js';
import { pathOptions } from '../../core/config/paths.js';
import { schemaPasses } from '../../core/config/validate.js';
import type { ExperimentConfig } from '../../core/config/types.js';
import type { LoadedConfig } from '../../core/config/located.js';
import { expandTrials } from '../../core/config/sweep.js';
import JsonlDataset from '../../plugins/dataset/jsonl.js';
import { tempDir } from '../helpers/cli.js';

function files(tree: Record<string, string>): string {
  const root = tempDir('ftrun-paths-');
  for (const [name, text] of Object.entries(tree)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

const registry = builtinRegistry();

describe('paths in extended files', () => {
  const root = files({
    'lib/base.yaml': [
      'dataset:',
      '  type: jsonl',
      '  queries: data/q.jsonl',
      '  corpus: { path: data/c.json, text: category }',
      'model: { path: ../models/m }',
      'store: { type: lancedb, uri: s3://bucket/db }',
      'sinks: [{ type: json, path: ../all-runs.jsonl }]',
      '',
    ].join('\n'),
    'exp/run.yaml': ['extends: ../lib/base.yaml', 'name: p', 'dataset: { eval: mine/e.jsonl }', ''].join('\n'),
  });
  /** The validated config (schema passes; the files need not exist). */
  const resolved = (loaded: LoadedConfig): ExperimentConfig => {
    const r = schemaPasses(loaded, registry);
    expect(r.problems).toEqual([]);
    return r.config;
  };

  it('resolves what the extended file wrote against its own directory', () => {
    const cfg = resolved(loadConfig(join(root, 'exp/run.yaml'), { env: {} }));
    expect(cfg.dataset).toMatchObject({
      queries: join(root, 'lib/data/q.jsonl'),
      corpus: { path: join(root, 'lib/data/c.json'), text: 'category' },
      eval: 'mine/e.jsonl', // written in the file you run: as written, resolved beside it
    });
    expect(cfg.model.path).toBe(join(root, 'models/m'));
    expect(cfg.sinks[0]).toEqual({ type: 'json', path: join(root, 'all-runs.jsonl') });
    expect((cfg.store as { uri: string }).uri).toBe('s3://bucket/db'); // a URI is not a file path
  });

  it('keeps --set values as written (relative to the file you run)', () => {
    const cfg = resolved(loadConfig(join(root, 'exp/run.yaml'), { env: {}, sets: ['dataset.queries=local.jsonl', 'model.path=/abs/m'] }));
    expect(cfg.dataset).toMatchObject({ queries: 'local.jsonl' });
    expect(cfg.model.path).toBe('/abs/m');
  });

  it('resolves sweep values against the file that wrote the sweep', () => {
    const r = files({
      'lib/sweep.yaml': ['dataset: { type: jsonl, queries: q.jsonl }', 'model: { path: m }', 'sweep:', '  grid:', '    dataset.queries: [a.jsonl, b.jsonl]', ''].join('\n'),
      'exp/run.yaml': ['extends: ../lib/sweep.yaml', 'name: s', ''].join('\n'),
    });
    const loaded = loadConfig(join(r, 'exp/run.yaml'), { env: {} });
    const trials = expandTrials(loaded).map((t) => resolved(t.loaded));
    expect(trials.map((c) => (c.dataset as { queries: string }).queries)).toEqual([join(r, 'lib/a.jsonl'), join(r, 'lib/b.jsonl')]);
    expect(trials.map((c) => c.model.path)).toEqual([join(r, 'lib/m'), join(r, 'lib/m')]);
  });
});

describe('pathOptions', () => {
  it('finds the options a schema marks as file paths, through oneOf branches', () => {
    expect(pathOptions(JsonlDataset.schema, { queries: 'q', eval: 'e', corpus: 'c', input: 'x' })).toEqual([['queries'], ['eval'], ['corpus']]);
    expect(pathOptions(JsonlDataset.schema, { queries: 'q', corpus: { path: 'c', text: 't' } })).toEqual([['queries'], ['corpus', 'path']]);
  });

  it('the path format compiles under the strict ajv every schema is compiled with', () => {
    expect(configAjv().compile(JsonlDataset.schema)({ queries: 'q.jsonl' })).toBe(true);
  });
});
