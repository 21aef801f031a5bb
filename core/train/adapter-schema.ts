/**
 * The `training.adapter` options (method `adapter`): which small map is learned on top of the
 * frozen encoder, and which side of retrieval it maps. ADAPTER_SCHEMA is the JSON Schema of the
 * `adapter:` object (defaults inside); the runner merges it into the `training:` section.
 */
import type { JsonSchema } from '../types.js';

export type AdapterKind = 'linear' | 'mlp';
export const ADAPTER_KINDS: readonly AdapterKind[] = ['linear', 'mlp'];

export type AdapterApplyTo = 'query' | 'both';
export const ADAPTER_APPLY_TO: readonly AdapterApplyTo[] = ['query', 'both'];

/** The validated `training.adapter` object. */
export interface AdapterOptions {
  kind: AdapterKind;
  hidden: number;
  apply_to: AdapterApplyTo;
}

/** training.learning_rate's default for adapters: trains one well in a few epochs (measured: docs/adapters.md). */
export const ADAPTER_DEFAULT_LR = 2e-3;

export const ADAPTER_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'Adapter fine-tuning (training.method adapter): a small trainable map on top of the frozen encoder (see docs/adapters.md).',
  default: {},
  additionalProperties: false,
  properties: {
    kind: {
      type: 'string',
      enum: [...ADAPTER_KINDS],
      default: 'linear',
      description: 'linear: a d×d matrix plus bias, initialised to the identity; mlp: x + W2·gelu(W1·x + b1) + b2 with W2, b2 initialised to zero.',
    },
    hidden: { type: 'integer', minimum: 1, default: 256, description: 'mlp only: width of the hidden layer.' },
    apply_to: {
      type: 'string',
      enum: [...ADAPTER_APPLY_TO],
      default: 'query',
      description:
        'query: map queries only (document vectors, and any index built from them, stay valid); both: map queries and documents.',
    },
  },
};

/** Default value of every adapter option. */
export function adapterDefaults(): AdapterOptions {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(ADAPTER_SCHEMA.properties as Record<string, { default?: unknown }>)) out[key] = s.default;
  return out as unknown as AdapterOptions;
}

/** The adapter options of a `training:` section, defaults filled (for callers that skipped validation). */
export function readAdapterOptions(training: Record<string, unknown>): AdapterOptions {
  const given = (training.adapter ?? {}) as Partial<AdapterOptions>;
  const opts = { ...adapterDefaults(), ...given };
  if (!ADAPTER_KINDS.includes(opts.kind)) throw new Error(`training.adapter.kind must be one of ${ADAPTER_KINDS.join(', ')}, got ${String(opts.kind)}`);
  if (!ADAPTER_APPLY_TO.includes(opts.apply_to)) throw new Error(`training.adapter.apply_to must be one of ${ADAPTER_APPLY_TO.join(', ')}, got ${String(opts.apply_to)}`);
  if (!Number.isInteger(opts.hidden) || opts.hidden < 1) throw new Error(`training.adapter.hidden must be a positive integer, got ${String(opts.hidden)}`);
  return opts;
}
