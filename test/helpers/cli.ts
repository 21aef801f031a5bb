import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../core/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process, capturing stdout and stderr. */
export async function cli(argv: string[], opts: { signal?: AbortSignal } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    out: (s) => (stdout += s),
    err: (s) => (stderr += s),
    signal: opts.signal,
  });
  return { code, stdout, stderr };
}

export function tempDir(prefix = 'ftrun-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
