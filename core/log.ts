/**
 * Logging and progress for the CLI. Everything goes to stderr (stdout is reserved for `--json`
 * output). Progress bars are drawn only when stderr is a TTY and neither `--quiet` nor CI is set.
 */
import type { Logger, Progress } from './types.js';

export interface LogOptions {
  quiet: boolean;
  verbose: boolean;
  /** Where text goes; defaults to process.stderr. */
  write?: (s: string) => void;
  /** Force progress bars on/off; default: stderr is a TTY and CI is unset. */
  tty?: boolean;
}

export function makeLogger(opts: LogOptions): Logger {
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  return {
    info: (m) => {
      if (!opts.quiet) write(m + '\n');
    },
    warn: (m) => write(`warning: ${m}\n`),
    debug: (m) => {
      if (opts.verbose) write(`debug: ${m}\n`);
    },
  };
}

export function makeProgress(opts: LogOptions): Progress {
  const tty = opts.tty ?? (Boolean(process.stderr.isTTY) && !process.env.CI);
  const enabled = tty && !opts.quiet;
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  return {
    start(label: string, total: number) {
      if (!enabled || total <= 0) return { update() {}, done() {} };
      const t0 = Date.now();
      let last = 0;
      let shown = '';
      const draw = (done: number) => {
        const width = 24;
        const frac = Math.min(1, done / total);
        const filled = Math.round(frac * width);
        const secs = (Date.now() - t0) / 1000;
        const rate = secs > 0 ? done / secs : 0;
        write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(1)}/s ${shown ? shown + ' ' : ''}`);
      };
      return {
        update(done: number, note?: string) {
          if (note !== undefined) shown = note;
          const now = Date.now();
          if (now - last < 100 && done < total) return;
          last = now;
          draw(done);
        },
        done() {
          draw(total);
          write('\n');
        },
      };
    },
  };
}
