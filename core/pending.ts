/**
 * What a command waits for that may never come. A plugin module whose top-level `await` never
 * settles leaves Node with nothing to do and the import still pending; Node then exits, with
 * code 0 unless told otherwise. The CLI's entry (core/cli/main.ts) asks `unsettled()`, when the
 * event loop drains with the command unfinished, what it was waiting for, and names it. Work
 * given up on while something still keeps the process alive (a plugin import past its time
 * limit, whose module runs a timer) is `abandoned()`: the entry then exits without waiting for it.
 */
import type { UserError } from './errors.js';

const waits = new Set<() => UserError>();
let gaveUp = false;

/** Await `work`; while it is pending, `unsettled()` names it with `describe()`. */
export async function awaitNamed<T>(work: Promise<T>, describe: () => UserError): Promise<T> {
  waits.add(describe);
  try {
    return await work;
  } finally {
    waits.delete(describe);
  }
}

/** The error naming the oldest work still awaited, if any. */
export function unsettled(): UserError | undefined {
  const first = waits.values().next();
  return first.done ? undefined : first.value();
}

/** Work was given up on that may still hold the process open. */
export function abandon(): void {
  gaveUp = true;
}

export function abandoned(): boolean {
  return gaveUp;
}
