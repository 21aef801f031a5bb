/**
 * An encoder with an adapter on top: texts are encoded by the frozen base encoder, then queries
 * (and documents too when apply_to is `both`) go through the adapter and are L2-normalised.
 * With apply_to `query`, document vectors are the base encoder's, bit for bit, so a corpus index
 * built with the base model stays valid. The wrapper owns the base: dispose() releases both.
 */
import { UserError } from '../../core/errors.js';
import type { EncodeOptions, Encoder } from '../../core/types.js';
import { mapVectors, type AdapterWeights } from './model.js';
import { loadAdapter } from './save.js';
import type { AdapterApplyTo } from '../../core/train/adapter-schema.js';

export class AdapterEncoder implements Encoder {
  readonly dim: number;
  readonly info: Record<string, unknown>;

  constructor(
    private readonly base: Encoder,
    private readonly weights: AdapterWeights,
    private readonly applyTo: AdapterApplyTo,
    extraInfo: Record<string, unknown> = {},
  ) {
    if (base.dim !== weights.dim) {
      throw new UserError('E_MODEL', `the adapter maps ${weights.dim}-d vectors but the base encoder makes ${base.dim}-d ones: it was trained on another model`);
    }
    this.dim = base.dim;
    this.info = { ...base.info, adapter: weights.kind, apply_to: applyTo, ...(weights.kind === 'mlp' ? { adapter_hidden: weights.hidden } : {}), ...extraInfo };
  }

  async encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]> {
    const vecs = await this.base.encode(texts, opts);
    return opts.kind === 'query' || this.applyTo === 'both' ? mapVectors(this.weights, vecs) : vecs;
  }

  async dispose(): Promise<void> {
    await this.base.dispose();
  }
}

/** Wrap `base` with the adapter saved in `adapterDir` (adapter.json + adapter.safetensors). */
export async function loadAdapterEncoder(base: Encoder, adapterDir: string): Promise<Encoder> {
  const { weights, meta } = loadAdapter(adapterDir);
  return new AdapterEncoder(base, weights, meta.apply_to, { adapter_dir: adapterDir });
}
