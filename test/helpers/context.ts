import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { RunContext } from '../../core/types.js';

/** A RunContext for unit tests: a fresh temp run dir, quiet logger, no-op progress. */
export function makeContext(overrides: Partial<RunContext> = {}): RunContext {
  const runDir = overrides.runDir ?? mkdtempSync(join(tmpdir(), 'ftrun-test-'));
  const baseDir = overrides.baseDir ?? process.cwd();
  return {
    configFile: join(baseDir, 'test.yaml'),
    baseDir,
    runDir,
    runId: 'test-' + Math.random().toString(36).slice(2, 8),
    seed: 42,
    logger: { info() {}, warn() {}, debug() {} },
    progress: { start: () => ({ update() {}, done() {} }) },
    write: () => {},
    quiet: true,
    signal: new AbortController().signal,
    resolvePath: (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p)),
    ...overrides,
  };
}
