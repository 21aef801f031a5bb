/**
 * Start-up cost: `ftrun --help`, `validate`, `plan` and `schema` load no model, training, database
 * or reporting library. The compiled CLI runs in a child process with a module hook that records
 * every module it resolves (ESM, through module.register) and every CommonJS module in the require
 * cache at exit; none may come from the heavy packages below. (Timings: docs/performance.md.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { HAS_SHARED, ROOT, SHARED } from '../helpers/shared.js';

/** Packages that only encoding, training, a store, a queue, a report or reading a CSV/Parquet file need. */
const HEAVY = [
  'onnxruntime-node',
  'onnxruntime-common',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-converter',
  '@lancedb/lancedb',
  'apache-arrow',
  'braintrust',
  'bullmq',
  'ioredis',
  'echarts',
  'csv-parse',
  'hyparquet',
];

/** The resolve hook (runs on the loader thread) appends each resolved URL to the file it is given. */
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(out, resolved.url + '\\n');
  return resolved;
}
`;

/** Preloaded with --import: registers the hook, and at exit adds the CommonJS modules that were loaded. */
const REGISTER = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const out = process.env.FTRUN_TRACE_OUT;
register(new URL('./hooks.mjs', import.meta.url), { data: { out } });
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(out, Object.keys(require.cache).map((f) => 'file://' + f + '\\n').join('')));
`;

const dir = tempDir('ftrun-startup-');
writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
writeFileSync(join(dir, 'register.mjs'), REGISTER);

/** Runs `bin/ftrun.js args` from the repository root; returns its exit status and the modules it loaded. */
function traced(args: string[]): { status: number | null; stderr: string; modules: string[] } {
  const out = join(dir, `${args.join('_').replace(/[^\w.-]/g, '_')}.txt`);
  writeFileSync(out, '');
  const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), join(ROOT, 'bin', 'ftrun.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FTRUN_TRACE_OUT: out, NO_COLOR: '1' },
  });
  const modules = [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))];
  return { status: r.status, stderr: r.stderr, modules };
}

/** The heavy packages among `modules` (by their node_modules folder). */
function heavyIn(modules: string[]): string[] {
  const loaded = new Set<string>();
  for (const m of modules) {
    const i = m.lastIndexOf('/node_modules/');
    if (i < 0) continue;
    const parts = m.slice(i + '/node_modules/'.length).split('/');
    const pkg = parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
    if (HEAVY.includes(pkg)) loaded.add(pkg);
  }
  return [...loaded].sort();
}

const COMMANDS: Array<{ args: string[]; needsShared: boolean; loads: string }> = [
  { args: ['--help'], needsShared: false, loads: 'dist/core/cli/main.js' },
  { args: ['schema'], needsShared: false, loads: '/node_modules/ajv/' },
  // The reference workflow's configs read ../shared/data.
  { args: ['validate', 'configs/bge.yaml'], needsShared: true, loads: '/node_modules/yaml/' },
  { args: ['plan', 'configs/bge-sweep.yaml'], needsShared: true, loads: '/node_modules/yaml/' },
];

describe('CLI start-up', () => {
  it('needs a build (bin/ftrun.js runs dist/)', () => {
    expect(existsSync(join(ROOT, 'dist', 'core', 'cli', 'main.js')), 'run `npx tsc -p tsconfig.json` first').toBe(true);
  });

  for (const { args, needsShared, loads } of COMMANDS) {
    const name = `ftrun ${args.join(' ')} loads none of ${HEAVY.length} heavy packages (onnxruntime, tfjs, LanceDB, Arrow, Braintrust, BullMQ, ECharts)`;
    if (needsShared && !HAS_SHARED) {
      console.warn(`[skip] ${name}: ../shared not found at ${SHARED}`);
      it.skip(`${name} (needs ../shared, not found at ${SHARED})`, () => {});
      continue;
    }
    it(name, () => {
      const r = traced(args);
      expect(r.stderr.replace(/^configs\/\S+: valid\n$/, '')).toBe('');
      expect(r.status).toBe(0);
      // The recorder saw the command's own modules (so an empty list cannot pass).
      expect(r.modules.some((m) => m.includes(loads)), `no module matching ${loads} recorded`).toBe(true);
      expect(heavyIn(r.modules)).toEqual([]);
    });
  }
});
