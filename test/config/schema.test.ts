import { configAjv } from '../../core/config/ajv.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/shared.js';
import { loadConfig } from '../../core/config/load.js';
import { buildJsonSchema } from '../../core/config/schema.js';
import { STAGES, type JsonSchema } from '../../core/types.js';
import { fakeRegistry } from './fakes.js';

const registry = fakeRegistry();
const schema = buildJsonSchema(registry);
const props = schema.properties as Record<string, JsonSchema>;
const entryOf = (key: string): JsonSchema => (key === 'sinks' ? (props.sinks!.items as JsonSchema) : props[key]!);
const KEYS = { dataset: 'dataset', splitter: 'splitter', miner: 'miner', loss: 'loss', backend: 'backend', store: 'store', sink: 'sinks' } as const;

describe('buildJsonSchema', () => {
  it('lists every registered plugin type of every stage, each with its options', () => {
    for (const stage of STAGES) {
      const entry = entryOf(KEYS[stage]);
      const typeSchema = (entry.properties as Record<string, JsonSchema>).type!;
      expect(typeSchema.enum).toEqual(registry.types(stage));
      const branches = entry.allOf as Array<{ if: JsonSchema; then: JsonSchema }>;
      expect(branches.map((b) => ((b.if.properties as Record<string, JsonSchema>).type!).const)).toEqual(registry.types(stage));
      for (const b of branches) expect(b.then.additionalProperties).toBe(false);
    }
    const semiHard = (entryOf('loss').allOf as Array<{ then: JsonSchema }>)[0]!.then;
    expect(Object.keys(semiHard.properties as object)).toEqual(['type', 'margin', 'distance']);
    expect(semiHard.description).toBe('The fake batch-semi-hard-triplet plugin.');
  });

  it('keeps descriptions and defaults of the core sections', () => {
    expect(Object.keys(props)).toEqual([
      'name', 'description', 'seed', 'extends', 'plugins', 'dataset', 'splitter', 'miner', 'loss', 'model', 'backend', 'training', 'evaluate', 'store', 'sinks', 'sweep',
    ]);
    for (const [key, s] of Object.entries(props)) expect(typeof s.description, key).toBe('string');
    expect(props.seed!.default).toBe(42);
    expect(props.sinks!.default).toEqual([{ type: 'console' }, { type: 'json' }, { type: 'markdown' }, { type: 'html' }]);
  });

  it('is a valid strict JSON Schema that accepts valid files and rejects wrong options', () => {
    const ajv = configAjv({ allErrors: true });
    const validate = ajv.compile(schema);
    const data = (f: string, ...sets: string[]) => loadConfig(`test/fixtures/config/${f}`, { env: {}, sets }).data;
    expect(validate(data('valid/full.yaml'))).toBe(true);
    expect(validate(data('valid/minimal.yaml', 'loss={type: batch-semi-hard-triplet, margin: 0.3}'))).toBe(true);
    expect(validate(data('valid/minimal.yaml', 'loss={type: batch-semi-hard-triplet, margn: 0.3}'))).toBe(false);
    expect(validate(data('valid/minimal.yaml', 'sinks=[{type: markdown, title: 3}]'))).toBe(false);
    expect(validate({ ...data('valid/minimal.yaml'), model: { id: 'org/m', path: './m' } })).toBe(false); // two sources
    expect(validate(data('valid/minimal.yaml', 'dataset.type=jsonll'))).toBe(false);
  });
});

/**
 * The published schema (docs/ftrun.schema.json, as an editor reads it) against the files as written,
 * before extends are merged: every shipped config passes, and every valid test fixture passes the
 * schema built the same way from the registry the fixtures are written for; broken files do not.
 */
describe('docs/ftrun.schema.json', () => {
  const published = JSON.parse(readFileSync(join(ROOT, 'docs', 'ftrun.schema.json'), 'utf8')) as JsonSchema;
  const validate = configAjv({ allErrors: true }).compile(published);
  const validateFake = configAjv({ allErrors: true }).compile(schema);
  const yamlFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
  const raw = (text: string) => parse(text) as unknown;
  const cases = [
    ...yamlFiles(join(ROOT, 'configs')).map((f) => [relative(ROOT, f), f, validate] as const),
    ...yamlFiles(join(ROOT, 'test', 'fixtures', 'config', 'valid')).map((f) => [relative(ROOT, f), f, validateFake] as const),
  ];

  it.each(cases)('accepts %s', (_name, file, check) => {
    const ok = check(raw(readFileSync(file, 'utf8')));
    expect(check.errors ?? [], file).toEqual([]);
    expect(ok).toBe(true);
  });

  it('rejects what validation rejects: unknown keys and plugins, wrong types, two model sources', () => {
    const base = 'name: x\ndataset: { type: jsonl, queries: q.jsonl }\nmodel: { path: ./m }\n';
    expect(validate(raw(base))).toBe(true);
    expect(validate(raw(base + 'epochs: 3\n'))).toBe(false);
    expect(validate(raw(base + 'loss: { type: triplett }\n'))).toBe(false);
    expect(validate(raw(base + 'loss: { type: triplet, margin: wide }\n'))).toBe(false);
    expect(validate(raw(base + 'store: { type: lancedb, url: x }\n'))).toBe(false);
    expect(validate(raw(base.replace('{ path: ./m }', '{ path: ./m, id: org/m }')))).toBe(false);
    // the same, in a file that extends another: what it leaves out is inherited
    expect(validate(raw('extends: base.yaml\nmodel: { pooling: cls }\nbackend: { intra_op_threads: 2 }\n'))).toBe(true);
    expect(validate(raw('extends: base.yaml\nmodel: { pooling: avg }\n'))).toBe(false);
  });
});
