/**
 * Custom plugins named under `plugins:` (module paths relative to the file that lists them; from
 * `--set`, relative to the working directory). Each module is imported and every exported class
 * with static `type`, `description`, `schema` and `stage` is registered in the given registry —
 * clone the registry first, so one run's plugins never leak into another.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, type Problem } from '../errors.js';
import type { Registry } from '../registry.js';
import { STAGES, type PluginClass, type StageName } from '../types.js';
import { displayPath, problemAt, type LoadedConfig } from './located.js';
import { configAjv } from './ajv.js';

const STATICS = ['type', 'description', 'schema', 'stage'] as const;

function missingStatics(cls: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof cls.type !== 'string' || cls.type === '') out.push('type (a string)');
  if (typeof cls.description !== 'string') out.push('description (a string)');
  if (!cls.schema || typeof cls.schema !== 'object' || Array.isArray(cls.schema)) out.push('schema (a JSON Schema object)');
  if (!STAGES.includes(cls.stage as StageName)) out.push(`stage (one of: ${STAGES.join(', ')})`);
  return out;
}

/** Import every module under `plugins:` and register its plugin classes. Returns what was added. */
export async function loadCustomPlugins(loaded: LoadedConfig, registry: Registry): Promise<Array<{ stage: StageName; type: string; module: string }>> {
  const list = loaded.data.plugins;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw UserError.config([problemAt(loaded, ['plugins'], 'must be a list of module paths (.js or .mjs files)')]);
  }
  const added: Array<{ stage: StageName; type: string; module: string }> = [];
  const problems: Problem[] = [];
  for (const [i, ref] of (list as string[]).entries()) {
    const path = ['plugins', i];
    const origin = loaded.locate(path);
    const abs = resolve(origin.file === '--set' ? process.cwd() : dirname(origin.file), ref);
    if (!existsSync(abs)) throw UserError.at('E_FILE', problemAt(loaded, path, `plugin module "${ref}" not found (${displayPath(abs)})`));
    if (!['.js', '.mjs'].includes(extname(abs))) {
      problems.push(problemAt(loaded, path, `plugin module "${ref}" must be a .js or .mjs file (compile TypeScript first)`));
      continue;
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch (e) {
      const where = e instanceof SyntaxError ? syntaxErrorLine(abs) : undefined;
      problems.push(problemAt(loaded, path, `cannot import plugin module "${ref}": ${where ? `${displayPath(abs)}:${where}: ` : ''}${(e as Error)?.message ?? String(e)}`));
      continue;
    }
    let usable = 0;
    const classes = new Set(Object.values(mod).filter((v): v is Function => typeof v === 'function'));
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'function' || !classes.delete(value)) continue; // skip non-classes and repeats (default + named)
      const cls = value as unknown as Record<string, unknown>;
      if (!STATICS.some((s) => s in cls)) continue; // a helper, not meant as a plugin
      const missing = missingStatics(cls);
      if (missing.length) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}": export "${name}" is missing static ${missing.join(', ')}`));
        continue;
      }
      try {
        configAjv({ allErrors: true, useDefaults: true }).compile(cls.schema as object);
      } catch (e) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}": export "${name}" has an invalid options schema: ${(e as Error).message}`));
        continue;
      }
      const stage = cls.stage as StageName;
      const existing = registry.get(stage, cls.type as string);
      if (existing && existing !== value) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}": ${stage} plugin "${String(cls.type)}" is already registered`));
        continue;
      }
      registry.register(stage, value as unknown as PluginClass);
      added.push({ stage, type: cls.type as string, module: abs });
      usable++;
    }
    if (usable === 0 && !problems.some((p) => p.path === `plugins[${i}]`)) {
      problems.push(problemAt(loaded, path, `plugin module "${ref}" exports no plugin class (a class with static ${STATICS.join(', ')})`));
    }
  }
  if (problems.length) throw UserError.config(problems);
  return added;
}

/** The line of a module's syntax error (`node --check` names it; an ESM import does not). */
function syntaxErrorLine(file: string): number | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(r.stderr ?? '');
  return m ? Number(m[1]) : undefined;
}
