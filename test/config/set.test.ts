import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { parsePath, formatPath } from '../../core/config/path.js';
import { UserError } from '../../core/errors.js';

const FULL = 'test/fixtures/config/valid/full.yaml';
const load = (...sets: string[]) => loadConfig(FULL, { sets, env: {} });

function usage(sets: string[]): string {
  try {
    load(...sets);
  } catch (e) {
    if (e instanceof UserError && e.code === 'E_USAGE') return e.message;
    throw e;
  }
  throw new Error('expected E_USAGE');
}

describe('--set', () => {
  it('replaces scalars with YAML-parsed values', () => {
    const c = load('seed=13', 'model.revision=main', 'model.normalize=false', 'splitter.test=2e-1', 'description=');
    expect(c.data.seed).toBe(13);
    expect((c.data.model as Record<string, unknown>).revision).toBe('main');
    expect((c.data.model as Record<string, unknown>).normalize).toBe(false);
    expect((c.data.splitter as Record<string, unknown>).test).toBe(0.2);
    expect(c.data.description).toBe('');
  });

  it('replaces a whole object or list, as in Hydra', () => {
    const c = load('splitter={type: none}', 'evaluate.k=[3]', 'sinks=[{type: json}]');
    expect(c.data.splitter).toEqual({ type: 'none' });
    expect((c.data.evaluate as Record<string, unknown>).k).toEqual([3]);
    expect((c.data.evaluate as Record<string, unknown>).metrics).toEqual(['mrr', 'recall']);
    expect(c.data.sinks).toEqual([{ type: 'json' }]);
  });

  it('indexes lists with [i] or .i, later flags win, and creates missing mappings', () => {
    const c = load('sinks[1].title=New', 'sinks.0.type=json', 'sinks.0.type=console', 'loss.margin=0.5', 'sinks[2]={type: json}');
    expect(c.data.sinks).toEqual([{ type: 'console' }, { type: 'markdown', title: 'New' }, { type: 'json' }]);
    expect(c.data.loss).toEqual({ margin: 0.5 });
    expect(c.locate(['sinks', 1, 'title'])).toEqual({ file: '--set' });
    expect(c.locate(['sinks', 1, 'type'])).toMatchObject({ line: 28, col: 11 });
    expect(c.locate(['loss'])).toEqual({ file: '--set' });
    const m = loadConfig('test/fixtures/config/valid/minimal.yaml', { env: {}, sets: ['sinks[0].type=json', 'a.b.1=x'] });
    expect(m.data.sinks).toEqual([{ type: 'json' }]);
    expect(m.data.a).toEqual({ b: { 1: 'x' } });
  });

  it('does not change the file it was loaded from', () => {
    const a = load('seed=1');
    const b = load();
    expect(a.data.seed).toBe(1);
    expect(b.data.seed).toBe(7);
  });

  it('a malformed flag is an E_USAGE error naming it', () => {
    expect(usage(['seed'])).toBe('--set "seed": expected path=value (e.g. --set loss.margin=0.5)');
    expect(usage(['=3'])).toBe('--set "=3": the path is empty');
    expect(usage(['a..b=3'])).toBe('--set "a..b=3": empty segment in path "a..b"');
    expect(usage(['evaluate.k=[1, 2'])).toBe(
      '--set "evaluate.k=[1, 2": the value is not valid YAML: Flow sequence must end with a ]',
    );
    expect(usage(['sinks[5].type=json'])).toBe('--set "sinks[5].type=json": index 5 is out of range (sinks has 2 items)');
    expect(usage(['seed.x=1'])).toBe('--set "seed.x=1": seed is a number, not a mapping or list');
    expect(usage(['sinks.x=1'])).toBe('--set "sinks.x=1": sinks is a list; "x" is not an index');
  });
});

describe('paths', () => {
  it('parses and formats dotted paths', () => {
    expect(parsePath('sinks[1].type')).toEqual(['sinks', 1, 'type']);
    expect(parsePath('sinks.1.type')).toEqual(['sinks', '1', 'type']);
    expect(parsePath('a[0][2]')).toEqual(['a', 0, 2]);
    expect(parsePath('[0]')).toBe('empty segment in path "[0]"');
    expect(parsePath('a[x]')).toBe('malformed index in path "a[x]" at "[x]"');
    expect(parsePath('a.[0]')).toBe('empty segment in path "a.[0]"');
    expect(parsePath('a.')).toBe('empty segment in path "a."');
    expect(parsePath('a]b')).toBe('malformed path "a]b": unexpected "]"');
    expect(parsePath('a[0]b')).toBe('malformed path "a[0]b": expected "." or "[" at "b"');
    expect(parsePath('sweep.grid["training.lr"][1]')).toEqual(['sweep', 'grid', 'training.lr', 1]);
    expect(formatPath(['sinks', 1, 'type'])).toBe('sinks[1].type');
    expect(formatPath(['sweep', 'grid', 'training.lr', 0])).toBe('sweep.grid["training.lr"][0]');
  });
});
