/**
 * Custom plugins named under `plugins:`: a module file (relative to the file that lists it; from
 * `--set`, to the working directory) — JavaScript (.js, .mjs, .cjs) imported natively, TypeScript
 * (.ts, .mts, .cts) loaded directly with jiti, no build step — or an npm package name, resolved
 * from the listing file's folder as Node resolves imports. Every exported class with static
 * `type`, `description`, `schema` and `stage` (as definePlugin makes) is registered in the given
 * registry — clone the registry first, so one run's plugins never leak into another. Inside a
 * TypeScript plugin, `import … from 'ftrun'` (and 'ftrun/loss') resolves to this ftrun even where
 * it is not installed.
 *
 * A module's top-level code may take FTRUN_PLUGIN_LOAD_TIMEOUT_S seconds (default 300, 0: no
 * limit); one whose top-level await can never settle is named by the CLI as soon as Node has
 * nothing else to do (core/pending.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { createJiti } from 'jiti';
import { UserError, type Problem } from '../errors.js';
import { abandon, awaitNamed } from '../pending.js';
import type { Registry } from '../registry.js';
import { EXAMPLE_SHAPES, STAGES, type ExampleShape, type PluginClass, type StageName } from '../types.js';
import { displayPath, problemAt, type LoadedConfig } from './located.js';
import { configAjv } from './ajv.js';
import { choices, describeValue } from './messages.js';

const JS = ['.js', '.mjs', '.cjs'];
const TS = ['.ts', '.mts', '.cts'];

/** A module of ftrun's own (dist/core/….js, or core/….ts when run from the sources), by its path from core/. */
const ownModule = (path: string) => {
  const js = fileURLToPath(new URL(`../${path}.js`, import.meta.url));
  return existsSync(js) ? js : fileURLToPath(new URL(`../${path}.ts`, import.meta.url));
};

/**
 * ftrun's public entries, as package.json "exports" names them: 'ftrun' and 'ftrun/loss' (the loss
 * contract, the distance helpers and `tf`, ftrun's own tfjs-core).
 * 'ftrun/engine' is the engine kit (engine/index.ts).
 */
const OWN_ENTRIES = { 'ftrun/engine': ownModule('../engine/index'), 'ftrun/loss': ownModule('train/loss'), ftrun: ownModule('index') };

let jiti: ReturnType<typeof createJiti> | undefined;
/** jiti loads when a TypeScript plugin or a plugin package is first loaded, not with every command (its CommonJS entry: tsLoader is synchronous). */
const tsLoader = () =>
  (jiti ??= (createRequire(import.meta.url)('jiti') as { createJiti: typeof createJiti }).createJiti(import.meta.url, { alias: OWN_ENTRIES, interopDefault: false, fsCache: false }));

/**
 * The module file a `plugins:` entry names, as the loader resolves it (a package name to its entry
 * file); undefined for a package that is not installed. `dir`: the folder of the listing file.
 */
export function pluginModuleFile(ref: string, dir: string): string | undefined {
  return isPackageName(ref) ? resolvePackage(ref, dir) : resolve(dir, ref);
}

/** A `plugins:` entry that names a package (`my-plugin`, `@scope/plugin`, `pkg/sub`) rather than a file. */
function isPackageName(ref: string): boolean {
  return !ref.startsWith('.') && !isAbsolute(ref) && !JS.includes(extname(ref)) && !TS.includes(extname(ref)) && /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w./-]+)?$/i.test(ref);
}

/** Where the package `name` resolves from `dir`, as an ESM import would; undefined when not installed. */
function resolvePackage(name: string, dir: string): string | undefined {
  try {
    const url = tsLoader().esmResolve(name, { parentURL: pathToFileURL(join(dir, 'noop.js')).href, try: true });
    return url ? fileURLToPath(url) : undefined;
  } catch {
    return undefined;
  }
}

const STATICS = ['type', 'description', 'schema', 'stage'] as const;

function missingStatics(cls: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (typeof cls.type !== 'string' || cls.type === '') out.push('type (a string)');
  if (typeof cls.description !== 'string') out.push('description (a string)');
  if (!cls.schema || typeof cls.schema !== 'object' || Array.isArray(cls.schema)) out.push('schema (a JSON Schema object)');
  if (!STAGES.includes(cls.stage as StageName)) out.push(`stage (one of: ${STAGES.join(', ')})`);
  return out;
}

/**
 * What a loss must declare that it reads (`needs`: one example shape) and a miner what it makes
 * (`provides`: example shapes, each one a loss can read), checked here because a JavaScript class
 * or a definePlugin call cast around its types escapes the compiler. Undefined when it is fine.
 */
function capabilityProblem(cls: Record<string, unknown>): string | undefined {
  const shapes = `one of: ${EXAMPLE_SHAPES.join(', ')}`;
  if (cls.stage === 'loss') {
    const needs = cls.needs;
    if (needs === undefined) return `loss "${String(cls.type)}" declares no \`needs\`: the example shape its compute() reads (${shapes})`;
    if (!EXAMPLE_SHAPES.includes(needs as ExampleShape)) {
      return `loss "${String(cls.type)}" needs ${describeValue(needs)}, which is not an example shape. ${choices(needs, EXAMPLE_SHAPES, 'Example shapes')}`;
    }
  }
  if (cls.stage === 'miner') {
    const provides = cls.provides;
    if (provides === undefined) return `miner "${String(cls.type)}" declares no \`provides\`: the example shapes its examples can be read as (a list, each ${shapes})`;
    if (!Array.isArray(provides) || provides.length === 0) {
      return `miner "${String(cls.type)}" provides ${Array.isArray(provides) ? 'an empty list' : describeValue(provides)}, which no loss accepts: give a list of example shapes (each ${shapes})`;
    }
    const unknown = provides.filter((p) => !EXAMPLE_SHAPES.includes(p as ExampleShape));
    if (unknown.length) {
      return `miner "${String(cls.type)}" provides ${unknown.map(describeValue).join(', ')}, which no loss accepts. ${choices(unknown[0], EXAMPLE_SHAPES, 'Example shapes')}`;
    }
  }
  return undefined;
}

/** Import every module under `plugins:` and register its plugin classes. Returns what was added. */
export async function loadCustomPlugins(loaded: LoadedConfig, registry: Registry): Promise<Array<{ stage: StageName; type: string; module: string }>> {
  const list = loaded.data.plugins;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw UserError.config([problemAt(loaded, ['plugins'], 'must be a list of plugin modules (.js/.mjs/.cjs or .ts/.mts/.cts files) or npm package names')]);
  }
  const added: Array<{ stage: StageName; type: string; module: string }> = [];
  const problems: Problem[] = [];
  const loadTimeout = loadTimeoutSeconds();
  for (const [i, ref] of (list as string[]).entries()) {
    const path = ['plugins', i];
    const origin = loaded.locate(path);
    const dir = origin.file === '--set' ? process.cwd() : dirname(origin.file);
    let abs: string;
    if (isPackageName(ref)) {
      const found = resolvePackage(ref, dir);
      if (!found) {
        throw UserError.at('E_FILE', problemAt(loaded, path, `plugin package "${ref}" is not installed where ${displayPath(dir)} can import it: npm install ${ref} (or name a module file: ./${ref}.ts)`));
      }
      abs = found;
    } else {
      abs = resolve(dir, ref);
      if (!existsSync(abs)) throw UserError.at('E_FILE', problemAt(loaded, path, `plugin module "${ref}" not found (${displayPath(abs)})`));
      if (!statSync(abs).isFile() || ![...JS, ...TS].includes(extname(abs))) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}" must be a JavaScript (.js, .mjs, .cjs) or TypeScript (.ts, .mts, .cts) file, or an npm package name`));
        continue;
      }
    }
    let mod: Record<string, unknown>;
    try {
      const importing = TS.includes(extname(abs)) ? (tsLoader().import(abs) as Promise<Record<string, unknown>>) : (import(pathToFileURL(abs).href) as Promise<Record<string, unknown>>);
      // A top-level await that never settles: the CLI names the module when Node runs out of work (core/pending.ts).
      const never = () => UserError.config([problemAt(loaded, path, `plugin module "${ref}" (${displayPath(abs)}) never finished loading: its top-level await never settled`)]);
      mod = await awaitNamed(withinLoadTime(importing, loadTimeout), never);
    } catch (e) {
      if (e instanceof LoadTimeout) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}" (${displayPath(abs)}) did not finish loading within ${e.seconds} s: its top-level code is still running or waiting (the limit is ${LOAD_TIMEOUT_ENV}; 0: none)`));
        continue;
      }
      let where: number | string | undefined = e instanceof SyntaxError ? syntaxErrorLine(abs) : undefined;
      let message = (e as Error)?.message ?? String(e);
      // jiti's parse errors: "ParseError: <what>\n <file>:<line>:<col>"
      const parse = /^(?:\w*Error: )?([\s\S]*?)\s*\n\s*(\S+):(\d+):(\d+)\s*$/.exec(message);
      if (parse && resolve(parse[2]!) === abs) {
        message = parse[1]!.trim();
        where = `${parse[3]}:${parse[4]}`;
      }
      if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND' && /'ftrun(\/[\w-]+)?'/.test(message)) {
        message += ' (a JavaScript plugin imports ftrun from its own node_modules: npm install --save-dev ftrun there, or write the plugin in TypeScript, which ftrun loads with its own copy)';
      }
      problems.push(problemAt(loaded, path, `cannot import plugin module "${ref}": ${where ? `${displayPath(abs)}:${where}: ` : ''}${message}`));
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
      const capability = capabilityProblem(cls);
      if (capability) {
        problems.push(problemAt(loaded, path, `plugin module "${ref}": export "${name}": ${capability}`));
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

/** How long a plugin module may take to load (its top-level code), in seconds; 0: no limit. */
export const LOAD_TIMEOUT_ENV = 'FTRUN_PLUGIN_LOAD_TIMEOUT_S';
const DEFAULT_LOAD_TIMEOUT_S = 300;

class LoadTimeout extends Error {
  constructor(readonly seconds: number) {
    super(`plugin module did not load within ${seconds} s`);
  }
}

function loadTimeoutSeconds(): number {
  const raw = process.env[LOAD_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === '') return DEFAULT_LOAD_TIMEOUT_S;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 0) throw new UserError('E_USAGE', `${LOAD_TIMEOUT_ENV} must be a number of seconds (0: no limit), got "${raw}"`);
  return s;
}

/**
 * `importing`, or a LoadTimeout once the load time is up (the module may keep running: the CLI
 * then exits without waiting for it). The timer does not hold the process open: a module that
 * leaves Node nothing to do is named at once (awaitNamed) instead.
 */
async function withinLoadTime<T>(importing: Promise<T>, seconds: number): Promise<T> {
  if (seconds === 0) return importing;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon();
      reject(new LoadTimeout(seconds));
    }, seconds * 1000);
    timer.unref();
  });
  try {
    return await Promise.race([importing, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The line of a module's syntax error (`node --check` names it; an ESM import does not). */
function syntaxErrorLine(file: string): number | undefined {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(r.stderr ?? '');
  return m ? Number(m[1]) : undefined;
}
