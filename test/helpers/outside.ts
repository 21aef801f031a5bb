/**
 * A user's folder outside the repository, as `npm install /path/to/ftrun` leaves it: 'ftrun',
 * 'ftrun/loss' and 'ftrun/engine' resolve through package.json "exports" to this checkout.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './shared.js';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Link this checkout as the folder's node_modules/ftrun (once). */
export function linkFtrun(dir: string): void {
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  if (!existsSync(join(dir, 'node_modules', 'ftrun'))) symlinkSync(ROOT, join(dir, 'node_modules', 'ftrun'), 'dir');
}

/** The repository's tsc on `dir`, with the flags given. */
export const tsc = (dir: string, ...flags: string[]): SpawnSyncReturns<string> => spawnSync(process.execPath, [TSC, '-p', dir, ...flags], { cwd: dir, encoding: 'utf8' });

/**
 * Type-checks `include` in `dir` as a user's strict NodeNext project, WITHOUT skipLibCheck, listing
 * every file of the program (stdout: the file list, with errors as the only relative lines).
 */
export function typecheckOutside(dir: string, include: string[]): SpawnSyncReturns<string> {
  linkFtrun(dir);
  const compilerOptions = {
    strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include }));
  return tsc(dir, '--listFiles');
}
