/**
 * A plugin's static hooks run while a config is validated (`check()`, a dataset's
 * `sampleRecord()`, `ineffective()`): one that throws is named — the hook, the plugin's stage and
 * type, and its entry in the config — as a config error (exit 2), as a plugin module that throws
 * when imported is. The plugin cannot be used with this config until it is fixed.
 */
import { UserError } from '../errors.js';
import { problemAt, type LoadedConfig } from './located.js';
import type { ConfigPath } from './path.js';

export interface HookRef {
  loaded: LoadedConfig;
  /** The plugin's entry, e.g. `['sinks', 1]`. */
  at: ConfigPath;
  stage: string;
  type: string;
}

/**
 * `fn()`, the plugin's `hook`; what it throws becomes a UserError located at the entry:
 * `exp.yaml:12:5 sinks[1]: check() of sink plugin "my-sink" failed: exploded` (E_CONFIG), or the
 * plugin's own UserError there with its code. An error already located (a hook it called, e.g.
 * the dataset's sampleRecord() inside a splitter's check) passes as it is.
 */
export function callHook<T>(ref: HookRef, hook: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UserError) {
      if (e.problems.some((p) => p.line !== undefined || p.file === '--set')) throw e;
      throw UserError.at(e.code, problemAt(ref.loaded, ref.at, `${hook}() of ${ref.stage} plugin "${ref.type}": ${e.message}`));
    }
    const message = e instanceof Error ? e.message : String(e);
    throw UserError.config([problemAt(ref.loaded, ref.at, `${hook}() of ${ref.stage} plugin "${ref.type}" failed: ${message}`)]);
  }
}
