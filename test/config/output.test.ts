import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load.js';
import { isSecretKey, redactSecrets, toYaml } from '../../core/config/output.js';
import { validateConfig } from '../../core/config/validate.js';
import { fakeRegistry } from './fakes.js';

describe('redactSecrets', () => {
  it('replaces values of secret-looking keys, deeply, without touching the input', () => {
    const input = {
      name: 'x',
      sinks: [{ type: 'braintrust', api_key: 'sk-123', project: 'p' }],
      dataset: { apiKey: 'k', hf_token: 't', 'client-secret': 's', PASSWORD: 'p', tokenizer: './tok.json', max_tokens: 5, token: '' },
      nested: { secrets: { a: 1 } },
    };
    expect(redactSecrets(input)).toEqual({
      name: 'x',
      sinks: [{ type: 'braintrust', api_key: '***', project: 'p' }],
      dataset: { apiKey: '***', hf_token: '***', 'client-secret': '***', PASSWORD: '***', tokenizer: './tok.json', max_tokens: 5, token: '' },
      nested: { secrets: { a: 1 } },
    });
    expect(input.sinks[0]!.api_key).toBe('sk-123');
  });

  it('recognizes secret keys by word', () => {
    for (const k of ['api_key', 'API-KEY', 'apikey', 'BRAINTRUST_API_KEY', 'accessToken', 'secret', 'db_password']) expect(isSecretKey(k), k).toBe(true);
    for (const k of ['tokenizer', 'max_tokens', 'type', 'secretary', 'keys']) expect(isSecretKey(k), k).toBe(false);
  });
});

describe('toYaml', () => {
  it('dumps a resolved config in canonical key order, type first, and round-trips', () => {
    const cfg = validateConfig(loadConfig('test/fixtures/config/valid/full.yaml', { env: {}, sets: ['sinks[1]={title: T, type: markdown}'] }), fakeRegistry());
    const text = toYaml(cfg);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(cfg)));
    const top = text.split('\n').filter((l) => /^[a-z_]+:/.test(l)).map((l) => l.split(':')[0]);
    expect(top).toEqual(['name', 'description', 'seed', 'plugins', 'dataset', 'splitter', 'miner', 'model', 'backend', 'training', 'evaluate', 'store', 'sinks']);
    expect(text).toContain('  - type: markdown\n    title: T\n');
    expect(toYaml(cfg)).toBe(text);
    expect(toYaml({ seed: 1, name: 'n', extra: { b: 1, a: 2 } })).toBe('name: n\nseed: 1\nextra:\n  b: 1\n  a: 2\n');
  });
});
