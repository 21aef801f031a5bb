/**
 * The only module that touches the tsyringe container.
 *
 * One child container per run (and per sweep trial) holds the run's runtime values (the
 * RunContext). Plugins are plain classes (built-in, custom, or made by definePlugin) with no
 * decorators and no injection tokens: each stage instance is registered by factory in its own
 * grandchild container, which holds the stage's validated options, and resolved from there, so
 * every plugin is constructed as `new Plugin(options, context)`; what that gives is awaited (a
 * plugin made by definePlugin with an async create() gives a Promise of its instance).
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { PluginClass, RunContext } from './types.js';

const CONTEXT = Symbol.for('ftrun.context');
const OPTIONS = Symbol.for('ftrun.options');
const PLUGIN = Symbol.for('ftrun.plugin');

export class RunScope {
  private disposed = false;

  constructor(private readonly container: DependencyContainer) {}

  /** Build a plugin instance with its options (awaiting an async create()). */
  async create<T>(cls: PluginClass<T | Promise<T>>, options: Record<string, unknown>): Promise<T> {
    if (this.disposed) throw new Error('run scope already disposed');
    const stage = this.container.createChildContainer();
    stage.register(OPTIONS, { useValue: options });
    stage.register(PLUGIN, { useFactory: (c) => new cls(c.resolve(OPTIONS), c.resolve<RunContext>(CONTEXT)) });
    return await stage.resolve<T | Promise<T>>(PLUGIN);
  }

  dispose(): void {
    this.disposed = true;
    this.container.clearInstances();
  }
}

/** A fresh child container for one run or sweep trial. */
export function createRunScope(ctx: RunContext): RunScope {
  const child = rootContainer.createChildContainer();
  child.register(CONTEXT, { useValue: ctx });
  return new RunScope(child);
}
