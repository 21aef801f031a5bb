/**
 * What one run holds open, in one place: the container scope its plugins are built in, its sinks,
 * its store and the encoders loaded so far. Stages borrow from it; `close()` releases everything
 * at the end of the run, whatever happened.
 */
import { createRunScope, type RunScope } from '../container.js';
import type { StageConfig } from '../config/types.js';
import type { Registry } from '../registry.js';
import type { Encoder, PluginClass, RunContext, StageName, StagePlugins, StorePlugin } from '../types.js';
import type { NamedSink } from './events.js';
import { withDeclaredCapabilities } from '../plugin.js';

export class RunResources {
  private readonly scope: RunScope;
  private readonly encoders: Encoder[] = [];
  readonly sinks: NamedSink[] = [];
  store?: StorePlugin;

  constructor(
    private readonly registry: Registry,
    ctx: RunContext,
  ) {
    this.scope = createRunScope(ctx);
  }

  /** A stage's plugin for a validated config entry (`{ type, ...options }`). */
  async make<S extends StageName>(stage: S, entry: StageConfig): Promise<StagePlugins[S]> {
    const cls = this.registry.get(stage, entry.type) as PluginClass<StagePlugins[S] | Promise<StagePlugins[S]>>;
    const { type: _type, ...options } = entry;
    // A plain class may declare a loss's `needs` or a miner's `provides` only as a static.
    return withDeclaredCapabilities(cls, await this.scope.create(cls, options));
  }

  /** Keep `encoder` until it is released (or the run ends). */
  track<E extends Encoder>(encoder: E): E {
    this.encoders.push(encoder);
    return encoder;
  }

  /** Stop tracking `encoder` without disposing it (something that wraps it is tracked instead). */
  untrack(encoder: Encoder): void {
    const i = this.encoders.indexOf(encoder);
    if (i >= 0) this.encoders.splice(i, 1);
  }

  /** Dispose `encoder` now (its memory is needed for the next stage). */
  async release(encoder: Encoder): Promise<void> {
    this.untrack(encoder);
    await encoder.dispose();
  }

  /** Release everything still held: encoders, the store, the container scope. Never throws. */
  async close(): Promise<void> {
    for (const enc of this.encoders.splice(0)) await enc.dispose().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
    this.store = undefined;
    this.scope.dispose();
  }
}
