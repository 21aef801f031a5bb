/**
 * The plugin API as a user meets it, from a folder of their own outside the repository: the
 * documented TypeScript plugin (docs/examples/csv-sink.ts) imports from 'ftrun', runs through the
 * CLI with no build step, and type-checks against the published declarations, which catch a
 * plugin that does not fit its stage; a plugin in its own npm package is named by package name.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared, TRANSACTIONS_EXPERIMENT } from '../helpers/shared.js';

const BIN = join(ROOT, 'bin', 'ftrun.js');
const ftrun = (cwd: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const experiment = (plugin: string, sink: string) => `name: mine
plugins: [${plugin}]
${TRANSACTIONS_EXPERIMENT}sinks: [${sink}]
`;

describeShared('a TypeScript plugin importing ftrun, from a folder outside the repository', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir('ftrun-user-');
    mkdirSync(join(dir, 'plugins'));
    copyFileSync(join(ROOT, 'docs', 'examples', 'csv-sink.ts'), join(dir, 'plugins', 'csv-sink.ts'));
    writeFileSync(join(dir, 'exp.yaml'), experiment('./plugins/csv-sink.ts', '{ type: csv, path: results.csv, metrics: [mrr@1, recall@3] }'));
  });

  it('runs through the CLI with no build step, and its check() and schema take part in validate', () => {
    const r = ftrun(dir, ['run', 'exp.yaml', '--runs-dir', 'runs', '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { models: { base: Record<string, number> } };
    const base = out.models.base;
    expect(readFileSync(join(dir, 'results.csv'), 'utf8')).toBe(
      `name,status,base_mrr@1,base_recall@3,finetuned_mrr@1,finetuned_recall@3\nmine,ok,${base['mrr@1']!.toFixed(4)},${base['recall@3']!.toFixed(4)},,\n`,
    );

    writeFileSync(join(dir, 'bad.yaml'), experiment('./plugins/csv-sink.ts', '{ type: csv, path: results.txt, metricz: [mrr@1] }'));
    const v = ftrun(dir, ['validate', 'bad.yaml']);
    expect(v.status).toBe(2);
    expect(v.stderr).toBe(
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n' +
        '  bad.yaml:9:41 sinks[0].metricz: unknown option "metricz". Did you mean "metrics"? Allowed: metrics, path.\n',
    );
    writeFileSync(join(dir, 'bad.yaml'), experiment('./plugins/csv-sink.ts', '{ type: csv, path: results.txt }'));
    expect(ftrun(dir, ['validate', 'bad.yaml']).stderr).toBe(
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n  bad.yaml:9:28 sinks[0].path: "results.txt" does not end in .csv\n',
    );
  });

  it('type-checks against the published declarations, which refuse a plugin that does not fit its stage', () => {
    // As `npm install /path/to/ftrun` leaves it.
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules', 'ftrun'), 'dir');
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, skipLibCheck: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, include: ['plugins/*.ts'] }),
    );
    const tsc = (cwd: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', cwd], { cwd, encoding: 'utf8' });
    const ok = tsc(dir);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);

    writeFileSync(
      join(dir, 'plugins', 'wrong.ts'),
      `import { definePlugin } from 'ftrun';
export const splitter = definePlugin({ stage: 'splitter', type: 'x', description: 'd', schema: {}, create: () => ({ splits: () => 1 }) });
export const loss = definePlugin({ stage: 'loss', type: 'y', description: 'd', schema: {}, create: () => ({ compute: () => { throw new Error(); } }) });
`,
    );
    const bad = tsc(dir);
    expect(bad.status).not.toBe(0);
    // a splitter without split(); a loss that does not declare the example shape it needs
    // (create() may return the instance or a Promise of it)
    expect(bad.stdout).toMatch(/wrong\.ts\(2,\d+\): error TS\d+: Type '\{ splits: \(\) => number; \}' is not assignable to type 'SplitterPlugin \| Promise<SplitterPlugin>'/);
    expect(bad.stdout).toMatch(/wrong\.ts\(3,\d+\): error TS\d+: Argument of type .* is not assignable to parameter of type 'PluginDefinition<"loss", .*>'\.\n\s+Property 'needs' is missing/);
    expect(bad.stdout).not.toMatch(/LossPlugin/); // declared once, in the definition, not on the instance
  });
});

describeShared('a plugin in its own npm package', () => {
  it('is named by its package name and resolved from the experiment file\'s folder', () => {
    const dir = tempDir('ftrun-user-');
    const pkg = join(dir, 'node_modules', 'ftrun-plugin-keyed');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'ftrun-plugin-keyed', type: 'module', exports: { '.': { import: './index.mjs' } } }));
    copyFileSync(join(ROOT, 'test', 'fixtures', 'plugins', 'keyed-sink.mjs'), join(pkg, 'index.mjs'));
    writeFileSync(join(dir, 'exp.yaml'), experiment('ftrun-plugin-keyed', '{ type: keyed, api_key: sk-123 }'));
    const r = ftrun(dir, ['validate', 'exp.yaml']);
    expect(r.stderr).toBe('exp.yaml: valid\n');
    expect(r.status).toBe(0);

    writeFileSync(join(dir, 'missing.yaml'), experiment('ftrun-plugin-nope', '{ type: keyed, api_key: sk-123 }'));
    const m = ftrun(dir, ['validate', 'missing.yaml']);
    expect(m.status).toBe(2);
    expect(m.stderr).toBe(`error[E_FILE]: missing.yaml:2:11 plugins[0]: plugin package "ftrun-plugin-nope" is not installed where ${dir} can import it: npm install ftrun-plugin-nope (or name a module file: ./ftrun-plugin-nope.ts)\n`);
  });
});
