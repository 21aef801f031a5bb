/**
 * A third engine written against the published entries only (docs/examples/bag-of-words-engine.ts,
 * 'ftrun' and 'ftrun/engine'), from a folder outside the repository: it type-checks against the
 * package's declarations without skipLibCheck, and `ftrun run` evaluates with it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { typecheckOutside } from '../helpers/outside.js';
import { ROOT, TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

const BIN = join(ROOT, 'bin', 'ftrun.js');

describeShared('a third engine as a plugin package (ftrun/engine)', () => {
  let dir = '';
  beforeAll(() => {
    dir = tempDir('ftrun-engine-');
    mkdirSync(join(dir, 'plugins'));
    copyFileSync(join(ROOT, 'docs', 'examples', 'bag-of-words-engine.ts'), join(dir, 'plugins', 'bag-of-words-engine.ts'));
    writeFileSync(
      join(dir, 'exp.yaml'),
      `name: bow
plugins: [./plugins/bag-of-words-engine.ts]
${TRANSACTIONS_EXPERIMENT}backend: { type: bag-of-words, batch_size: 16 }
training: { method: none }
store: { type: memory }
`,
    );
  });

  it('evaluates through the CLI with the engine', () => {
    const r = spawnSync(process.execPath, [BIN, 'run', 'exp.yaml', '--runs-dir', 'runs', '--json', '--quiet'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout) as { run_dir: string; status: string; models: Record<string, Record<string, number>> };
    expect(s.status).toBe('ok');
    expect(s.models.base!['mrr@1']).toBeGreaterThan(0);
    const env = JSON.parse(readFileSync(join(s.run_dir, 'env.json'), 'utf8')) as { encoders: Record<string, { backend: string; batch_size: number }> };
    expect(env.encoders.base).toMatchObject({ backend: 'bag-of-words', batch_size: 16 });
  });

  it('type-checks against the published declarations without skipLibCheck', () => {
    const r = typecheckOutside(dir, ['plugins/*.ts']);
    expect(r.stdout.split('\n').filter((l) => l !== '' && !isAbsolute(l)), 'errors').toEqual([]);
    expect(r.status).toBe(0);
    // the kit's declarations were read (not skipped): the engine's imports are typed
    expect(r.stdout).toMatch(/dist\/engine\/index\.d\.ts/);
  });
});
