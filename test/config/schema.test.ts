import { configAjv } from '../../core/config/ajv.js';
import { describe, expect, it } from 'vitest';
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
    expect(props.sinks!.default).toEqual([{ type: 'console' }, { type: 'json' }, { type: 'markdown' }]);
  });

  it('is a valid strict JSON Schema that accepts valid files and rejects wrong options', () => {
    const ajv = configAjv({ allErrors: true });
    const validate = ajv.compile(schema);
    const data = (f: string, ...sets: string[]) => loadConfig(`test/fixtures/config/${f}`, { env: {}, sets }).data;
    expect(validate(data('valid/full.yaml'))).toBe(true);
    expect(validate(data('valid/minimal.yaml', 'loss={type: batch-semi-hard-triplet, margin: 0.3}'))).toBe(true);
    expect(validate(data('valid/minimal.yaml', 'loss={type: batch-semi-hard-triplet, margn: 0.3}'))).toBe(false);
    expect(validate(data('valid/minimal.yaml', 'sinks=[{type: markdown, title: 3}]'))).toBe(false);
    expect(validate(data('valid/minimal.yaml', 'model.id=org/m'))).toBe(false); // both id and path
    expect(validate(data('valid/minimal.yaml', 'dataset.type=jsonll'))).toBe(false);
  });
});
