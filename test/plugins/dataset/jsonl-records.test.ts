import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../core/errors.js';
import { parseJsonArray, parseJsonl, readRecords } from '../../../plugins/dataset/jsonl/records.js';

const dir = mkdtempSync(join(tmpdir(), 'ftrun-jsonl-'));
function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('did not throw');
}

describe('core/jsonl', () => {
  it('reads JSONL records with their line numbers, skipping blank lines and CRLF', () => {
    expect(parseJsonl('{"a":1}\r\n\r\n  \n"x"\n', 'f.jsonl')).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, value: 'x' },
    ]);
  });

  it('reports a malformed line as file:line with the reason and column', () => {
    const e = errorOf(() => parseJsonl('{"a":1}\n{"a": }\n', '/tmp/q.jsonl'));
    expect(e.code).toBe('E_DATA');
    expect(e.message).toBe("/tmp/q.jsonl:2: invalid JSON: Unexpected token '}' (column 7)");
    const long = `{"input": "${'x'.repeat(200)}", "expected": }`;
    expect(errorOf(() => parseJsonl(long, '/tmp/q.jsonl')).message).toBe("/tmp/q.jsonl:1: invalid JSON: Unexpected token '}' (column 227)");
    expect(errorOf(() => parseJsonl('{"a":1', '/tmp/q.jsonl')).message).toBe(
      "/tmp/q.jsonl:1: invalid JSON: Expected ',' or '}' after property value (column 7)",
    );
  });

  it('gives each element of a JSON array the line it starts on', () => {
    const text = '[\n  "a",\n  {"x": [1, 2],\n   "y": "],"},\n  "b"\n]\n';
    expect(parseJsonArray(text, 'c.json')).toEqual([
      { line: 2, value: 'a' },
      { line: 3, value: { x: [1, 2], y: '],' } },
      { line: 5, value: 'b' },
    ]);
    expect(parseJsonArray('[]', 'c.json')).toEqual([]);
  });

  it('locates a syntax error inside a JSON file', () => {
    expect(errorOf(() => parseJsonArray('[\n  "a",\n  "b",,\n]', '/tmp/c.json')).message).toBe(
      "/tmp/c.json:3: invalid JSON: Unexpected token ',' (column 7)",
    );
    expect(errorOf(() => parseJsonArray('{"a": 1}', '/tmp/c.json')).message).toBe('/tmp/c.json: expected a JSON array, got object');
  });

  it('picks JSON or JSONL by extension or first character; names the option for a missing file', async () => {
    expect(await readRecords(write('a.json', '["x"]'), 'o')).toEqual([{ line: 1, value: 'x' }]);
    expect(await readRecords(write('b.txt', '\n[1,\n2]'), 'o')).toEqual([
      { line: 2, value: 1 },
      { line: 3, value: 2 },
    ]);
    expect(await readRecords(write('c.jsonl', '1\n2'), 'o')).toEqual([
      { line: 1, value: 1 },
      { line: 2, value: 2 },
    ]);
    const missing = join(dir, 'nope.jsonl');
    await expect(readRecords(missing, 'dataset.eval')).rejects.toThrow(`dataset.eval: file not found: ${missing}`);
    await expect(readRecords(dir, 'dataset.eval')).rejects.toMatchObject({ code: 'E_FILE' });
  });
});
