/**
 * The only module that touches the tsyringe container.
 *
 * One child container per run (and per sweep trial) holds the run's runtime values (the
 * RunContext); each stage instance is resolved from its own grandchild container that holds the
 * stage's validated options, so every plugin receives exactly
 *   constructor(@inject(TOKENS.options) options, @inject(TOKENS.context) context).
 * Custom plugins written in plain JavaScript (no decorators) are constructed with the same two
 * arguments.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { TOKENS } from './tokens.js';
import type { PluginClass, RunContext } from './types.js';

export class RunScope {
  private disposed = false;

  constructor(private readonly container: DependencyContainer) {}

  /** Build a plugin instance with its options. */
  create<T>(cls: PluginClass<T>, options: Record<string, unknown>): T {
    if (this.disposed) throw new Error('run scope already disposed');
    const stage = this.container.createChildContainer();
    stage.register(TOKENS.options, { useValue: options });
    try {
      return stage.resolve<T>(cls as unknown as new (...args: unknown[]) => T);
    } catch (e) {
      // Plain-JS plugin classes carry no tsyringe type info: construct them directly.
      if (e instanceof Error && /TypeInfo not known/.test(e.message)) {
        return new cls(options, stage.resolve<RunContext>(TOKENS.context));
      }
      throw e;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.container.clearInstances();
  }
}

/** A fresh child container for one run or sweep trial. */
export function createRunScope(ctx: RunContext): RunScope {
  const child = rootContainer.createChildContainer();
  child.register(TOKENS.context, { useValue: ctx });
  return new RunScope(child);
}
