/**
 * Files that are not what a config or data file should be: refused before reading, at once, with
 * exit 2 — a FIFO (reading would block forever), /dev/zero (never ends), bytes that are not UTF-8
 * (named with their line, never replaced by U+FFFD).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, describeShared } from '../helpers/shared.js';
import { VALID } from './broken-cases.js';

describeShared('hostile files', () => {
  const dir = tempDir('ftrun-hostile-');
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  writeFileSync(join(dir, 'x.yaml'), VALID);
  writeFileSync(join(dir, 'zero.yaml'), 'name: z\nextends: /dev/zero\n');
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.concat([Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  writeFileSync(join(dir, 'latin1.jsonl'), Buffer.concat([Buffer.from('{"input": "ok", "expected": ["Travel"]}\n{"input": "caf'), Buffer.from([0xe9]), Buffer.from('", "expected": ["Travel"]}\n')]));

  const cases: Array<[string, string[], string]> = [
    ['a FIFO as the experiment file', ['validate', fifo], `error[E_FILE]: cannot read config file ${fifo}: not a regular file: it is a FIFO (named pipe)\n`],
    ['/dev/zero as the experiment file', ['validate', '/dev/zero'], 'error[E_FILE]: cannot read config file /dev/zero: not a regular file: it is a character device\n'],
    ['/dev/zero as extends', ['validate', join(dir, 'zero.yaml')], `error[E_FILE]: ${join(dir, 'zero.yaml')}:2:10 extends: cannot read "/dev/zero" (/dev/zero): not a regular file: it is a character device\n`],
    ['a config that is not UTF-8', ['validate', join(dir, 'latin1.yaml')], `error[E_YAML]: ${join(dir, 'latin1.yaml')}:1:10 not valid UTF-8 (byte 0xe9); save the file as UTF-8\n`],
    ['a FIFO as a data file', ['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--quiet', '--set', `dataset.queries=${fifo}`], `error[E_CONFIG]: Config is not valid, found 1 problem:\n  --set dataset.queries: not a regular file: ${fifo}\n`],
    ['a data file that is not UTF-8', ['run', join(dir, 'x.yaml'), '--runs-dir', join(dir, 'runs'), '--quiet', '--set', `dataset.queries=${join(dir, 'latin1.jsonl')}`], `error[E_CONFIG]: Config is not valid, found 1 problem:\n  --set dataset.queries: ${join(dir, 'latin1.jsonl')}:2: not valid UTF-8 (byte 0xe9 at column 15); save the file as UTF-8\n`],
  ];
  it('a plugin module with a syntax error: the real CLI names its line', () => {
    writeFileSync(join(dir, 'bad.mjs'), 'export class X {\n  static stage = "sink";\n  static type = "x"\n  static description = "d";\n  static schema = { type: "object" ;\n}\n');
    writeFileSync(join(dir, 'p.yaml'), VALID + 'plugins: [./bad.mjs]\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), 'validate', join(dir, 'p.yaml')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${join(dir, 'p.yaml')}:12:11 plugins[0]: cannot import plugin module "./bad.mjs": ${join(dir, 'bad.mjs')}:5: Unexpected token ';'\n`);
  });

  for (const [name, args, stderr] of cases) {
    it(name, async () => {
      const r = await cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(stderr);
    });
  }
});
