import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { loadCustomPlugins } from '../../core/config/plugins.js';
import { validateConfig } from '../../core/config/validate.js';
import { UserError } from '../../core/errors.js';
import { fakeRegistry } from './fakes.js';

const P = 'test/fixtures/config/plugins';

async function failure(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('loadCustomPlugins', () => {
  it('registers exported plugin classes in the given registry; their schemas take part in validation', async () => {
    const base = fakeRegistry();
    const registry = base.clone();
    const loaded = loadConfig(`${P}/custom.yaml`, { env: {} });
    const added = await loadCustomPlugins(loaded, registry);
    expect(added).toEqual([{ stage: 'sink', type: 'csv', module: resolve(P, 'good.mjs') }]);
    expect(registry.types('sink')).toEqual(['console', 'csv', 'html', 'json', 'markdown']);
    expect(base.has('sink', 'csv')).toBe(false);
    expect(validateConfig(loaded, registry).sinks).toEqual([{ type: 'csv', file: 'out.csv' }]);
    const bad = loadConfig(`${P}/custom.yaml`, { env: {}, sets: ['sinks[0].fil=x'] });
    expect(() => validateConfig(bad, registry)).toThrow('--set sinks[0].fil: unknown option "fil". Did you mean "file"? Allowed: file.');
  });

  it('no plugins → nothing registered', async () => {
    expect(await loadCustomPlugins(loadConfig('test/fixtures/config/valid/minimal.yaml', { env: {} }), fakeRegistry())).toEqual([]);
  });

  it('a missing module is E_FILE at its plugins[i] line', async () => {
    const e = await failure(loadCustomPlugins(loadConfig(`${P}/missing.yaml`, { env: {} }), fakeRegistry()));
    expect(e.code).toBe('E_FILE');
    expect(e.message).toBe(`${P}/missing.yaml:4:5 plugins[1]: plugin module "./nope.mjs" not found (${P}/nope.mjs)`);
  });

  it('modules without usable classes, or classes missing statics, are config errors naming what is missing', async () => {
    const e = await failure(loadCustomPlugins(loadConfig(`${P}/bad.yaml`, { env: {} }), fakeRegistry()));
    expect(e.code).toBe('E_CONFIG');
    expect(e.problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
      '3:5 plugins[0]: plugin module "./partial.mjs": export "Half" is missing static description (a string), stage (one of: dataset, splitter, miner, loss, backend, store, sink)',
      '4:5 plugins[1]: plugin module "./empty.mjs" exports no plugin class (a class with static type, description, schema, stage)',
      '5:5 plugins[2]: plugin module "./bad-stage.mjs": export "default" is missing static stage (one of: dataset, splitter, miner, loss, backend, store, sink)',
      '6:5 plugins[3]: plugin module "./readme.txt" must be a JavaScript (.js, .mjs, .cjs) or TypeScript (.ts, .mts, .cts) file, or an npm package name',
    ]);
  });

  it('a plugin type that is already registered is a config error', async () => {
    const registry = fakeRegistry();
    registry.register('sink', { ...(registry.get('sink', 'console') as object), type: 'csv' } as never);
    const e = await failure(loadCustomPlugins(loadConfig(`${P}/custom.yaml`, { env: {} }), registry));
    expect(e.problems[0]!.message).toBe('plugin module "./good.mjs": sink plugin "csv" is already registered');
  });
});
