/**
 * What every command that reads an experiment file starts with: the file loaded (extends,
 * ${env:…}, --set) and a registry of the built-in plugins plus the custom ones it lists.
 */
import { resolve } from 'node:path';
import { builtinRegistry } from '../builtins.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { loadCustomPlugins } from '../config/plugins.js';
import type { Registry } from '../registry.js';

export async function prepare(file: string, sets: string[]): Promise<{ loaded: LoadedConfig; registry: Registry }> {
  const loaded = loadConfig(resolve(file), { sets });
  const registry = builtinRegistry().clone();
  await loadCustomPlugins(loaded, registry);
  return { loaded, registry };
}
