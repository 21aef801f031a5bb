import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../core/cli/main.js';
import { ROOT } from './shared.js';

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

/**
 * Runs the real CLI (`bin/ftrun.js`, its own process) with `args` writing into `runsDir`, and
 * SIGKILLs it — no chance to clean up — as soon as its run records its first checkpoint. Returns
 * the run directory (the one run under `runsDir/<experiment name>/`).
 */
export async function killAfterFirstCheckpoint(args: string[], runsDir: string, experiment: string): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), ...args, '--runs-dir', runsDir, '--quiet'], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  let runDir = '';
  for (let i = 0; i < 2400 && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 25));
    const parent = join(runsDir, experiment);
    if (!runDir && existsSync(parent)) runDir = join(parent, readdirSync(parent)[0] ?? '');
    const ev = runDir && join(runDir, 'events.jsonl');
    if (ev && existsSync(ev) && readFileSync(ev, 'utf8').includes('"type":"checkpoint"')) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  return runDir;
}
