/**
 * Small or read-only file systems for tests, without touching the machine: a tmpfs mounted in a
 * private mount namespace (`unshare`), so nothing outside the command sees it. Where namespaces are
 * not allowed, tests skip with the reason this gives.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './shared.js';

/** How to get a private mount namespace here (unprivileged user namespace first), or why not. */
export function privateMounts(): { argv: string[] } | { skip: string } {
  const tries = [['unshare', '--user', '--map-root-user', '--mount'], ['unshare', '--mount']];
  const errors: string[] = [];
  for (const argv of tries) {
    const probe = spawnSync(argv[0]!, [...argv.slice(1), 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; r=$?; rmdir "$d"; exit $r'], { encoding: 'utf8' });
    if (probe.status === 0) return { argv };
    errors.push(`${argv.join(' ')}: ${(probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}`}`);
  }
  return { skip: `no private mount namespace to put a small tmpfs in (${errors.join('; ')})` };
}

/** `x` quoted for sh. */
export const shq = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;

/** The command line of the real CLI (`bin/ftrun.js`) with `args`, quoted for sh. */
export const ftrunLine = (args: string[]) => [process.execPath, join(ROOT, 'bin', 'ftrun.js'), ...args].map(shq).join(' ');
