/**
 * A plugin that throws is named: which entry of the config it fills (its YAML path and type),
 * where that entry is written, and which of its calls failed — for every call the run makes
 * (create, load, split, mine, loadEncoder, and a sink's logConfig, logEval and close; log() is
 * reported by RunEvents with the same name). A UserError (a message the plugin meant for the
 * user) is located at the entry as the stages' errors are, and stays a user error (exit 2); any
 * other error fails the run (exit 1) as
 * `sinks[1] (type: my-sink) at exp.yaml:12:5: close() failed: exploded`.
 */
import type { LoadedConfig } from '../config/load.js';
import { displayPath } from '../config/located.js';
import { parsePath } from '../config/path.js';
import { UserError } from '../errors.js';
import { locateError } from './locate-error.js';

/** `sinks[1] (type: my-sink) at exp.yaml:12:5`: a plugin entry of the config, for messages. */
export function pluginLabel(loaded: LoadedConfig, at: string, type: string): string {
  const path = parsePath(at);
  const o = loaded.locate(Array.isArray(path) ? path : [at]);
  const where = o.line !== undefined ? `${displayPath(o.file)}:${o.line}:${o.col ?? 1}` : displayPath(o.file);
  return `${at} (type: ${type}) at ${where}`;
}

/** A plugin's call that threw something other than a UserError: the run failed, naming the plugin. */
export class PluginFailure extends Error {
  constructor(
    readonly label: string,
    readonly hook: string,
    cause: unknown,
  ) {
    super(`${label}: ${hook}() failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PluginFailure';
  }
}

/** Where a plugin entry is: the config it was loaded from, its YAML path (`sinks[1]`) and type. */
export interface PluginEntryRef {
  loaded: LoadedConfig;
  at: string;
  type: string;
}

/** `e`, thrown by `hook` of the plugin at `ref`, named (see the header). */
export function namePluginError(e: unknown, ref: PluginEntryRef, hook: string): unknown {
  if (e instanceof UserError) return locateError(e, ref.loaded, ref.at);
  if (e instanceof PluginFailure) return e;
  return new PluginFailure(pluginLabel(ref.loaded, ref.at, ref.type), hook, e);
}

/** Await one call of a plugin; what it throws is named (namePluginError). */
export async function callPlugin<T>(ref: PluginEntryRef, hook: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw namePluginError(e, ref, hook);
  }
}
