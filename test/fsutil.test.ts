import { existsSync, readdirSync, readFileSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJsonl, ensureNewDir, readJsonl, writeFileAtomic, writeJsonAtomic } from '../core/fsutil.js';
import { UserError } from '../core/errors.js';
import { tempRoot } from './helpers/fake-runs.js';

describe('fsutil', () => {
  it('writeFileAtomic replaces the file and leaves no temp file', () => {
    const dir = tempRoot();
    const file = join(dir, 'sub', 'a.txt');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['a.txt']);
  });

  it('writeFileAtomic cleans up its temp file when the rename fails', () => {
    const dir = tempRoot();
    mkdirSync(join(dir, 'target')); // renaming a file over a directory fails
    expect(() => writeFileAtomic(join(dir, 'target'), 'x')).toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('writeJsonAtomic writes pretty JSON with a trailing newline', () => {
    const file = join(tempRoot(), 'm.json');
    writeJsonAtomic(file, { a: 1, b: [1, 2] });
    expect(readFileSync(file, 'utf8')).toBe('{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}\n');
  });

  it('appendJsonl appends whole lines and repairs a torn last line', () => {
    const file = join(tempRoot(), 'e.jsonl');
    appendJsonl(file, { a: 1 });
    appendJsonl(file, { a: 2 });
    appendFileSync(file, '{"a": 3'); // a crash mid-line
    appendJsonl(file, { a: 4 });
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a": 3\n{"a":4}\n');
    expect(readJsonl(file)).toEqual([{ a: 1 }, { a: 2 }, { a: 4 }]);
  });

  it('ensureNewDir creates a directory and refuses an existing one', () => {
    const dir = join(tempRoot(), 'runs', 'x', 'run1');
    ensureNewDir(dir);
    expect(existsSync(dir)).toBe(true);
    writeFileSync(join(dir, 'keep'), 'k');
    let err: unknown;
    try {
      ensureNewDir(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).code).toBe('E_RUN');
    expect((err as UserError).message).toContain(dir);
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('k');
  });
});
