/**
 * The JSON Schema of experiment files, built from the registered plugins' option schemas: each
 * stage entry has a `type` enum and one `if {type: const} then {plugin options}` per plugin.
 * For editors (`# yaml-language-server: $schema=…`) and generated docs, so descriptions are kept.
 */
import type { Registry } from '../registry.js';
import { STAGES, type JsonSchema, type StageName } from '../types.js';
import { CORE_SCHEMAS, STAGE_SECTIONS, TOP_LEVEL_KEYS } from './envelope.js';
import { pluginEntrySchema } from './validate.js';

/** The schema of one entry of `stage`: `{ type: <plugin>, ...that plugin's options }`. */
export function stageEntrySchema(registry: Registry, stage: StageName): JsonSchema {
  const entries = registry.entries(stage);
  const types = entries.map(([t]) => t);
  const typeSchema: JsonSchema = {
    type: 'string',
    description: `The ${stage} plugin.${types.length ? ` Available: ${types.join(', ')}.` : ''}`,
  };
  if (types.length) typeSchema.enum = types;
  const schema: JsonSchema = {
    type: 'object',
    description: STAGE_SECTIONS[stage].description,
    required: ['type'],
    properties: { type: typeSchema },
  };
  if (entries.length) {
    schema.allOf = entries.map(([type, cls]) => ({
      if: { properties: { type: { const: type } }, required: ['type'] },
      then: pluginEntrySchema(cls),
    }));
  }
  return schema;
}

export function buildJsonSchema(registry: Registry): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const byKey = new Map(STAGES.map((s) => [STAGE_SECTIONS[s].key, s]));
  for (const key of TOP_LEVEL_KEYS) {
    const stage = byKey.get(key);
    if (!stage) {
      properties[key] = CORE_SCHEMAS[key]!;
      continue;
    }
    const section = STAGE_SECTIONS[stage];
    const entry = stageEntrySchema(registry, stage);
    const s: JsonSchema = section.list ? { type: 'array', description: section.description, items: entry } : entry;
    if (section.default !== undefined) s.default = section.default;
    properties[key] = s;
  }
  properties.model = {
    ...CORE_SCHEMAS.model,
    oneOf: ['id', 'path'].map((k) => ({ properties: { [k]: { type: 'string' } }, required: [k] })),
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'ftrun experiment file',
    description: 'An ftrun experiment: dataset, model, training and evaluation, one plugin per stage.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'dataset', 'model'],
    properties,
  };
}
