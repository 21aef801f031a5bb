/**
 * Broken inputs: every one exits with 2, prints exactly the expected message and no stack trace.
 * Set FTRUN_PRINT_CASES=1 to print what each case currently produces.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { SHARED, describeShared } from '../helpers/shared.js';
import { CASES } from './broken-cases.js';

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

describeShared('broken inputs exit with 2 and a precise message', () => {
  it('has at least 25 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(25));

  for (const c of CASES) {
    it(c.name, async () => {
      const dir = tempDir('ftrun-broken-');
      for (const [name, text] of Object.entries(c.files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
      for (const [k, v] of Object.entries(c.env ?? {})) process.env[k] = v.replaceAll('<dir>', dir);
      const r = await cli(c.args.map((a) => a.replaceAll('<dir>', dir)));
      const stderr = r.stderr.replaceAll(dir, '<dir>').replaceAll(SHARED, '<shared>');
      if (process.env.FTRUN_PRINT_CASES) console.log(`--- ${c.name}\n${stderr}`);
      expect(r.code).toBe(2);
      expect(stderr).toBe(c.stderr);
      expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
      expect(r.stdout).toBe('');
      expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').toBeUndefined();
      expect(({} as Record<string, unknown>).x, 'Object.prototype polluted').toBeUndefined();
    });
  }
});
