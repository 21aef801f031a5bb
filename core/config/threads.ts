/**
 * The bound on every thread and worker count ftrun takes (the ort backend's intra_op_threads, the
 * tfjs backend's threads, `ftrun run --parallel`, `ftrun worker --concurrency`): at most
 * THREADS_PER_CORE × the machine's cores (os.availableParallelism(), which honours CPU affinity).
 * Compute threads beyond the cores only wait for them, and each thread (or process) takes its own
 * stack and buffers: `intra_op_threads: 100000` makes no progress and grows by gigabytes. Four
 * per core leaves room for threads that wait (I/O, a sweep's trials waiting on a service) without
 * letting a typo become a runaway. Checked where the count is read (validate, the flag parser), so
 * a count that is fine on one machine is checked again on the machine that runs it.
 */
import { availableParallelism } from 'node:os';

export const THREADS_PER_CORE = 4;

/** The most threads (or workers) a count may ask for on this machine. */
export function maxThreads(): number {
  return THREADS_PER_CORE * availableParallelism();
}

/**
 * Why `n` threads is too many here (`unit`: "threads", "worker processes", "trials at once"), or
 * undefined. The text names the bound and its reason; the caller puts the option or flag first.
 */
export function threadCountProblem(n: number, unit: string): string | undefined {
  const max = maxThreads();
  if (n <= max) return undefined;
  const cores = availableParallelism();
  return `${n} ${unit} is more than this machine can use: at most ${max} (${THREADS_PER_CORE} × its ${cores} core${cores === 1 ? '' : 's'}); more than that only wait for the cores, and each takes its own memory`;
}
