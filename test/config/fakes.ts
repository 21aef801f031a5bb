/** Small fake plugin classes and a registry of them, for config tests (no real plugins loaded). */
import { Registry } from '../../core/registry.js';
import type { ExampleShape, JsonSchema, PluginClass, StageName } from '../../core/types.js';

function plugin(type: string, schema: JsonSchema = {}, statics: Record<string, unknown> = {}): PluginClass {
  const cls = class {};
  Object.assign(cls, {
    type,
    description: `The fake ${type} plugin.`,
    schema: { type: 'object', additionalProperties: false, properties: {}, ...schema },
    ...statics,
  });
  return cls as unknown as PluginClass;
}

export const jsonl = plugin('jsonl', {
  required: ['queries'],
  properties: {
    queries: { type: 'string', description: 'queries file' },
    eval: { type: 'string', description: 'eval file' },
    corpus: { type: 'string', description: 'corpus file' },
  },
});
export const ratio = plugin('ratio', {
  properties: {
    test: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'test share' },
    stratify: { type: 'boolean', default: false, description: 'stratify by label' },
  },
});
export const provides = (s: ExampleShape[]) => ({ provides: s });
export const batchSemiHard = plugin(
  'batch-semi-hard-triplet',
  {
    properties: {
      margin: { type: 'number', exclusiveMinimum: 0, default: 5, description: 'margin' },
      distance: { type: 'string', enum: ['euclidean', 'cosine'], default: 'euclidean', description: 'distance' },
    },
  },
  { needs: 'labelled' },
);
export const mnrl = plugin(
  'multiple-negatives-ranking',
  { properties: { scale: { type: 'number', default: 20, description: 'scale' } } },
  { needs: 'pairs' },
);

export function fakeRegistry(): Registry {
  const r = new Registry();
  const add = (stage: StageName, ...classes: PluginClass[]) => classes.forEach((c) => r.register(stage, c));
  add('dataset', jsonl);
  add('splitter', plugin('none'), ratio);
  add('miner', plugin('none', {}, provides([])), plugin('labelled', {}, provides(['labelled'])), plugin('random-negative', {}, provides(['pairs', 'triplets'])));
  add('loss', batchSemiHard, mnrl);
  add(
    'backend',
    plugin('ort', { properties: { threads: { type: 'integer', minimum: 1, description: 'threads' } } }, { canTrain: false }),
    plugin('tfjs', { properties: { device: { type: 'string', enum: ['auto', 'cpu', 'wasm'], default: 'auto', description: 'device' } } }),
    // A training engine that implements one loss, and checks its own options.
    plugin(
      'narrow',
      { properties: { provider: { type: 'string', default: 'cpu', description: 'provider' } } },
      {
        trainsLosses: ['multiple-negatives-ranking'],
        check: (o: Record<string, unknown>) => (o.provider === 'cpu' ? [] : [{ path: ['provider'], message: `${String(o.provider)} is not installed` }]),
      },
    ),
  );
  add('store', plugin('memory'));
  add('sink', plugin('console'), plugin('json'), plugin('markdown', { properties: { title: { type: 'string', description: 'title' } } }), plugin('html'));
  return r;
}
