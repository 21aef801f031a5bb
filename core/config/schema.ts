/**
 * The JSON Schema of experiment files, built from the registered plugins' option schemas: each
 * stage entry has a `type` enum and one `if {type: const} then {plugin options}` per plugin.
 * For editors (`# yaml-language-server: $schema=…`) and generated docs, so descriptions are kept.
 */
import type { Registry } from '../registry.js';
import { STAGES, type JsonSchema, type StageName } from '../types.js';
import { CORE_SCHEMAS, MODEL_SOURCES, STAGE_SECTIONS, TOP_LEVEL_KEYS } from './envelope.js';
import { pluginEntrySchema } from './validate.js';

/**
 * The schema of one entry of `stage`: `{ type: <plugin>, ...that plugin's options }`. `type` is not
 * required: a file that extends another may change options of the inherited plugin, and a section
 * with a default plugin keeps it when only its options are written.
 */
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

/**
 * The published JSON Schema of experiment files (for editors), built from the same sources as
 * validation: the core sections, every registered plugin's options, one list of model sources. It
 * accepts every file `ftrun validate` accepts, and the pieces such files extend (which may leave
 * out anything: required sections and the model source are checked on the merged config by
 * `ftrun validate`).
 */
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
  // evaluate.sets: each set is a dataset entry
  const evaluate = CORE_SCHEMAS.evaluate!;
  const evalProps = evaluate.properties as Record<string, JsonSchema>;
  properties.evaluate = { ...evaluate, properties: { ...evalProps, sets: { ...evalProps.sets, additionalProperties: { ...stageEntrySchema(registry, 'dataset'), description: 'A dataset entry, as `dataset:` takes.' } } } };
  const pairs = MODEL_SOURCES.flatMap((a, i) => MODEL_SOURCES.slice(i + 1).map((b) => [a, b]));
  properties.model = {
    ...CORE_SCHEMAS.model,
    // at most one source; at least one once the files are merged (validation says so)
    not: { anyOf: pairs.map((pair) => ({ type: 'object', properties: declared(pair), required: pair })) },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'ftrun experiment file',
    description: 'An ftrun experiment: dataset, model, training and evaluation, one plugin per stage.',
    type: 'object',
    additionalProperties: false,
    properties,
  };
}

/** `{ key: true }` for each key: what a `required` beside it refers to (ajv's strictRequired). */
const declared = (keys: readonly string[]): Record<string, boolean> => Object.fromEntries(keys.map((k) => [k, true]));
