/**
 * The closed registry of plugins: built-ins are listed explicitly in core/builtins.ts (no
 * decorator-driven registration); custom plugins named under `plugins:` in an experiment file are
 * added per run before validation, so their schemas take part in it.
 */
import type { PluginClass, StageName } from './types.js';
import { STAGES } from './types.js';

export type PluginMap = Record<StageName, Record<string, PluginClass>>;

export class Registry {
  private readonly map: PluginMap;

  constructor(initial: Partial<PluginMap> = {}) {
    this.map = Object.fromEntries(STAGES.map((s) => [s, { ...(initial[s] ?? {}) }])) as PluginMap;
  }

  /** Registered type names of a stage, sorted. */
  types(stage: StageName): string[] {
    return Object.keys(this.map[stage]).sort();
  }

  get(stage: StageName, type: string): PluginClass | undefined {
    return Object.prototype.hasOwnProperty.call(this.map[stage], type) ? this.map[stage][type] : undefined;
  }

  has(stage: StageName, type: string): boolean {
    return this.get(stage, type) !== undefined;
  }

  register(stage: StageName, cls: PluginClass): void {
    this.map[stage][cls.type] = cls;
  }

  /** A copy, so a run's custom plugins never leak into another run. */
  clone(): Registry {
    return new Registry(this.map);
  }

  entries(stage: StageName): Array<[string, PluginClass]> {
    return this.types(stage).map((t) => [t, this.map[stage][t]!]);
  }
}
