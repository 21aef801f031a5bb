/**
 * definePlugin: the typed way to write a plugin. One object ties together the stage, the `type`
 * key of experiment files, the description and options schema, the stage's capabilities and a
 * `create(options, context)` that returns the stage's instance (or a Promise of it); the compiler
 * checks the instance against the stage's interface (StagePlugins) and the capabilities against
 * the stage (StageCapabilities: a loss must say what it `needs`, a miner what it `provides`).
 *
 *   import { definePlugin, type RunSummary } from 'ftrun';
 *   export default definePlugin({
 *     stage: 'sink', type: 'my-sink', description: '…', schema: { type: 'object', properties: {} },
 *     create: (options, ctx) => ({ close: (s: RunSummary) => ctx.write(`${s.status}\n`) }),
 *   });
 *
 * The result is a plain class with the declared statics, so the registry, validation and the
 * container treat every plugin alike (the built-in ones are written this way too). `create` may
 * be async: a plugin whose implementation needs a heavy library (a tensor library, a database
 * client) imports it there with `await import(…)`, so that loading the plugin's module — which
 * `validate`, `plan` and `schema` do for its schema and checks — stays cheap. The container
 * awaits what `new Plugin(options, context)` returns.
 */
import type {
  CheckContext, IneffectiveOption, JsonSchema, OptionProblem, PluginClass, RunContext, StageCapabilities, StageName, StagePlugins,
} from './types.js';

/**
 * What create() returns: the stage's instance, less what the definition declares once for it (a
 * loss's `needs`, a miner's `provides` are copied onto the instance).
 */
export type PluginInstance<S extends StageName> = S extends 'loss'
  ? Omit<StagePlugins['loss'], 'needs'> & Partial<Pick<StagePlugins['loss'], 'needs'>>
  : S extends 'miner'
    ? Omit<StagePlugins['miner'], 'provides'> & Partial<Pick<StagePlugins['miner'], 'provides'>>
    : StagePlugins[S];

export type PluginDefinition<
  S extends StageName,
  O extends object = Record<string, unknown>,
  R extends PluginInstance<S> | Promise<PluginInstance<S>> = PluginInstance<S> | Promise<PluginInstance<S>>,
  T extends string = string,
> = {
  /** The stage it plugs into. */
  stage: S;
  /** Its `type:` key in experiment files. */
  type: T;
  /** One sentence, shown in `ftrun schema` and the docs. */
  description: string;
  /** JSON Schema of its options (defaults inside); `format: 'path'` marks file paths. */
  schema: JsonSchema;
  /**
   * Problems with (valid, defaulted) options that a schema cannot express; run by `validate`. The
   * options may be read as O or as a plain record.
   */
  check?(options: O & Record<string, unknown>, context: CheckContext): OptionProblem[];
  /** Options that cannot take effect given the others (refused when written). */
  ineffective?(options: O & Record<string, unknown>): IneffectiveOption[];
  /**
   * The instance for one run: options validated with defaults filled, and the run's context. May
   * return a Promise (import heavy dependencies here, not at the top of the module).
   */
  create(options: O, context: RunContext): R;
} & StageCapabilities[S];

/**
 * A plugin class made by definePlugin, for stage S and `type` T: `new Plugin(options, context)`
 * gives the instance, or a Promise of it when its create() is async (Async true; boolean: either).
 */
export type DefinedPlugin<S extends StageName, Async extends boolean = boolean, T extends string = string> = PluginClass<
  Async extends true ? Promise<StagePlugins[S]> : StagePlugins[S]
> & {
  readonly stage: S;
  readonly type: T;
};

export function definePlugin<
  S extends StageName,
  O extends object = Record<string, unknown>,
  R extends PluginInstance<S> | Promise<PluginInstance<S>> = PluginInstance<S> | Promise<PluginInstance<S>>,
  T extends string = string,
>(
  definition: PluginDefinition<S, O, R, T>,
): DefinedPlugin<S, R extends Promise<unknown> ? true : false, T> {
  const { create, stage, type, ...statics } = definition as PluginDefinition<StageName, O> & Record<string, unknown>;
  if (typeof create !== 'function') throw new TypeError(`definePlugin(${String(type)}): create(options, context) is missing`);
  const Plugin = class {
    constructor(options: O, context: RunContext) {
      const made = create(options, context) as unknown;
      const complete = (instance: unknown) => withDeclaredCapabilities(Plugin as unknown as PluginClass, instance as object);
      return made instanceof Promise ? made.then(complete) : complete(made);
    }
  };
  Object.defineProperty(Plugin, 'name', { value: `${stage}:${type}` });
  Object.assign(Plugin, { stage, type, ...statics });
  return Plugin as unknown as DefinedPlugin<S, R extends Promise<unknown> ? true : false, T>;
}

/**
 * What a stage reads from the instance but a plugin declares once, on its class (a loss's `needs`,
 * a miner's `provides`), copied onto the instance when it does not say: for definePlugin's
 * classes and plain classes alike.
 */
export function withDeclaredCapabilities<I extends object>(cls: PluginClass, instance: I): I {
  const inst = instance as Record<string, unknown>;
  if (cls.needs !== undefined && inst.needs === undefined) inst.needs = cls.needs;
  if (cls.provides !== undefined && inst.provides === undefined) inst.provides = [...cls.provides];
  return instance;
}
