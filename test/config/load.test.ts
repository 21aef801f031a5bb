import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { UserError } from '../../core/errors.js';

const F = 'test/fixtures/config';

function failure(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('extends', () => {
  it('deep-merges in order, later wins, the including file wins, paths relative to the includer', () => {
    const c = loadConfig(`${F}/extends/child.yaml`, { env: {} });
    expect(c.data).toEqual({
      name: 'child',
      seed: 9, // base.yaml says 7, _shared/extra.yaml (via ./seed.yaml) says 9: later wins
      dataset: { type: 'jsonl', queries: 'child.jsonl', corpus: 'corpus.json' },
      model: { id: 'org/base-model', query_prompt: 'q: ' },
      evaluate: { k: [1, 3], metrics: ['mrr', 'recall'] },
      sinks: [{ type: 'markdown' }], // lists replace
      backend: { type: 'tfjs' },
    });
    expect(c.data).not.toHaveProperty('extends');
  });

  it('reports a cycle with its chain', () => {
    const e = failure(() => loadConfig(`${F}/cycle/a.yaml`));
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toBe(
      'Config is not valid, found 1 problem:\n' +
        `  ${F}/cycle/b.yaml:1:10 extends: extends cycle: ${F}/cycle/a.yaml → ${F}/cycle/b.yaml → ${F}/cycle/a.yaml`,
    );
    const self = failure(() => loadConfig(`${F}/cycle/self.yaml`));
    expect(self.problems[0]!.message).toBe(`extends cycle: ${F}/cycle/self.yaml → ${F}/cycle/self.yaml`);
    expect(self.problems[0]!.path).toBe('extends[0]');
  });

  it('names the including file and line for a missing target', () => {
    const e = failure(() => loadConfig(`${F}/extends/missing.yaml`));
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`${F}/extends/missing.yaml:4:5 extends[1]: cannot read "nope.yaml" (${F}/extends/nope.yaml): no such file`);
  });

  it('rejects an extends that is not a path or list of paths', () => {
    const e = failure(() => loadConfig(`${F}/extends/bad.yaml`));
    expect(e.message).toBe(`Config is not valid, found 1 problem:\n  ${F}/extends/bad.yaml:1:1 extends: must be a file path or a list of file paths`);
  });

  it('E_FILE for a missing main file', () => {
    const e = failure(() => loadConfig(`${F}/does-not-exist.yaml`));
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`cannot read config file ${F}/does-not-exist.yaml: no such file`);
  });
});

describe('${env:…} interpolation', () => {
  it('substitutes set variables and defaults; whole plain scalars take their YAML type', () => {
    const c = loadConfig(`${F}/env.yaml`, { env: { FTRUN_T_DATA: '/data', FTRUN_T_SEED: '7' } });
    expect(c.data.name).toBe('env-default');
    expect(c.data.seed).toBe(7);
    expect(c.data.description).toBe('7'); // quoted: stays a string
    expect(c.data.dataset).toEqual({ type: 'jsonl', queries: '/data/queries.jsonl' });
    expect(c.data.model).toEqual({ id: '${env:NOT_INTERPOLATED}' }); // $${ escapes
  });

  it('uses the default for an unset or empty variable (seed → the number 42)', () => {
    const c = loadConfig(`${F}/env.yaml`, { env: { FTRUN_T_DATA: 'd', FTRUN_T_SEED: '', FTRUN_T_NAME: 'x' } });
    expect(c.data.seed).toBe(42);
    expect(c.data.name).toBe('env-x');
  });

  it('an unset variable without default is a config error at its position', () => {
    const e = failure(() => loadConfig(`${F}/env.yaml`, { env: {} }));
    expect(e.code).toBe('E_CONFIG');
    expect(e.problems.map((p) => `${p.file}:${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
      `${F}/env.yaml:6:12 dataset.queries: environment variable FTRUN_T_DATA is not set (write \${env:FTRUN_T_DATA:-default} to give a default)`,
    ]);
  });
});

describe('locate()', () => {
  it('gives the origin of values from the main file, an extended file and --set', () => {
    const c = loadConfig(`${F}/extends/child.yaml`, { env: {}, sets: ['model.revision=v2', 'evaluate={k: [5]}'] });
    const abs = (f: string) => `${process.cwd()}/${F}/extends/${f}`;
    expect(c.file).toBe(abs('child.yaml'));
    expect(c.locate(['name'])).toEqual({ file: abs('child.yaml'), line: 2, col: 7 });
    expect(c.locate(['dataset', 'queries'])).toEqual({ file: abs('child.yaml'), line: 4, col: 12 });
    expect(c.locate(['dataset', 'corpus'])).toEqual({ file: abs('base.yaml'), line: 6, col: 11 });
    expect(c.locate(['seed'])).toEqual({ file: abs('_shared/seed.yaml'), line: 1, col: 7 });
    expect(c.locate(['backend', 'type'])).toEqual({ file: abs('_shared/extra.yaml'), line: 5, col: 9 });
    expect(c.locate(['sinks', 0, 'type'])).toEqual({ file: abs('child.yaml'), line: 8, col: 11 });
    expect(c.locate(['model', 'revision'])).toEqual({ file: '--set' });
    expect(c.locate(['evaluate', 'k', 0])).toEqual({ file: '--set' });
    // the mapping `dataset` is located at its key in the including file, which wins
    expect(c.locate(['dataset'])).toEqual({ file: abs('child.yaml'), line: 3, col: 1 });
    // unknown paths fall back to the nearest located ancestor, then to the main file
    expect(c.locate(['dataset', 'nothing', 'here'])).toEqual({ file: abs('child.yaml'), line: 3, col: 1 });
    expect(c.locate(['nothing'])).toEqual({ file: abs('child.yaml') });
    expect(c.locateKey(['sinks', 0, 'type'])).toEqual({ file: abs('child.yaml'), line: 8, col: 5 });
  });
});

describe('syntax errors', () => {
  it('E_YAML with file:line:col and the parser message on one line', () => {
    const e = failure(() => loadConfig(`${F}/invalid/yaml-syntax.yaml`));
    expect(e.code).toBe('E_YAML');
    expect(e.message).toBe(`${F}/invalid/yaml-syntax.yaml:5:1 Flow sequence in block collection must be sufficiently indented and end with a ]`);
  });

  it('E_YAML for a duplicate key', () => {
    const e = failure(() => loadConfig(`${F}/invalid/duplicate-key.yaml`));
    expect(e.message).toBe(`${F}/invalid/duplicate-key.yaml:3:1 Map keys must be unique`);
  });
});

describe('what a child file means', () => {
  const dir = (files: Record<string, string>) => {
    const d = mkdtempSync(join(tmpdir(), 'ftrun-load-'));
    for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
    return d;
  };

  it('a model from another source replaces the inherited model section', () => {
    const d = dir({
      'base.yaml': 'model: { id: org/m, revision: v2, query_prompt: "q: " }\n',
      'child.yaml': 'extends: base.yaml\nmodel: { path: ./mine, pooling: cls }\n',
    });
    expect(loadConfig(join(d, 'child.yaml'), { env: {} }).data.model).toEqual({ path: './mine', pooling: 'cls' });
    // the same source merges key by key
    writeFileSync(join(d, 'same.yaml'), 'extends: base.yaml\nmodel: { id: org/other }\n');
    expect(loadConfig(join(d, 'same.yaml'), { env: {} }).data.model).toEqual({ id: 'org/other', revision: 'v2', query_prompt: 'q: ' });
    // --set of another source drops the old one (and the hub revision that belonged to it)
    expect(loadConfig(join(d, 'same.yaml'), { env: {}, sets: ['model.path=./m2'] }).data.model).toEqual({ path: './m2', query_prompt: 'q: ' });
  });

  it('key: null removes an inherited key (its default applies); --set key=null too', () => {
    const d = dir({
      'base.yaml': 'seed: 7\nmodel: { id: org/m, pooling: cls }\nsinks: [{ type: console }, { type: json }]\n',
      'child.yaml': 'extends: base.yaml\nseed: null\nmodel: { pooling: null }\n',
    });
    const c = loadConfig(join(d, 'child.yaml'), { env: {} });
    expect(c.data).toEqual({ model: { id: 'org/m' }, sinks: [{ type: 'console' }, { type: 'json' }] });
    expect(c.locate(['seed']).file).toBe(join(d, 'child.yaml'));
    const s = loadConfig(join(d, 'child.yaml'), { env: {}, sets: ['model.id=null', 'sinks[0]=null'] });
    expect(s.data).toEqual({ model: {}, sinks: [{ type: 'json' }] });
  });
});
