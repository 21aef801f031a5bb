/**
 * The package a user installs from a packed tarball (README: "From a folder of your own") holds
 * what the command and every public entry point load: `dist/` is git-ignored, so without the
 * package.json "files" list `npm pack` would leave it out and the installed `ftrun` could not start.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/shared.js';

interface Pkg {
  bin: Record<string, string>;
  main: string;
  types: string;
  exports: Record<string, string | { types?: string; default?: string }>;
}

describe('the packed package', () => {
  it('holds the bin, every export and its types, the shipped configs and docs; no tests or runs', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = new Set((JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Pkg;
    const norm = (p: string) => p.replace(/^\.\//, '');
    const needed = [
      ...Object.values(pkg.bin),
      pkg.main,
      pkg.types,
      ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : [e.types, e.default].filter((x): x is string => !!x))),
      'dist/core/cli/main.js',
      'configs/quickstart.yaml',
      'docs/writing-a-plugin.md',
      'README.md',
    ].map(norm);
    expect(needed.filter((p) => !files.has(p))).toEqual([]);
    // The CLI's own imports: every built-in plugin's compiled module ships.
    expect([...files].filter((p) => p.startsWith('dist/plugins/') && p.endsWith('.js')).length).toBeGreaterThan(20);
    expect([...files].filter((p) => /^(test|runs|node_modules|bench|\.ci)\//.test(p))).toEqual([]);
  });
});
