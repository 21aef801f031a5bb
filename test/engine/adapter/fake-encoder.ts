/**
 * A deterministic fake Encoder for adapter tests: each text maps to a fixed pseudo-random vector
 * (seeded by a hash of the text), optionally normalised; it counts how many texts it encoded.
 */
import { createHash } from 'node:crypto';
import { Rng } from '../../../core/rng.js';
import type { EncodeOptions, Encoder } from '../../../core/types.js';

export class FakeEncoder implements Encoder {
  readonly info: Record<string, unknown>;
  encoded = 0;
  disposed = false;

  constructor(
    readonly dim = 8,
    private readonly normalize = true,
  ) {
    this.info = { backend: 'fake', dim, normalize };
  }

  vector(text: string): Float32Array {
    const seed = createHash('sha256').update(text).digest().readUInt32LE(0);
    const rng = new Rng(seed);
    const v = Float32Array.from({ length: this.dim }, () => rng.normal());
    if (!this.normalize) return v;
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  }

  async encode(texts: string[], _opts: EncodeOptions): Promise<Float32Array[]> {
    this.encoded += texts.length;
    return texts.map((t) => this.vector(t));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
