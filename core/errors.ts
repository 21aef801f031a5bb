/**
 * The one class of user error. Anything thrown as a UserError is the user's to fix (bad config,
 * missing file, bad usage): the CLI prints its message without a stack trace and exits with 2.
 * Every other error is a failed run (exit 1).
 */

/** Stable error codes; scripts may rely on them. */
export type ErrorCode =
  | 'E_USAGE' // bad command line
  | 'E_CONFIG' // the experiment file is not valid (see problems)
  | 'E_YAML' // YAML syntax
  | 'E_FILE' // a referenced file is missing or unreadable
  | 'E_DATA' // a data file is malformed or empty
  | 'E_MODEL' // a model cannot be loaded (unsupported, unreadable, not cached offline)
  | 'E_RUN' // a run directory or run state problem (e.g. not resumable)
  | 'E_LLM' // the model server that writes generated queries (dataset type generate, dataset.llm) refused or did not answer
  | 'E_LOCKED'; // a run or sweep directory another process is working in (core/run/lock.ts)

/** One problem located in a config file. */
export interface Problem {
  file: string;
  line?: number;
  col?: number;
  /** Dotted YAML path, e.g. `loss.margin` or `sinks[1].type`. */
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const loc = p.line !== undefined ? `${p.file}:${p.line}:${p.col ?? 1}` : p.file;
  return p.path ? `${loc} ${p.path}: ${p.message}` : `${loc} ${p.message}`;
}

/** Marks UserErrors across copies of this module (a plugin package may bring its own ftrun). */
const USER_ERROR = Symbol.for('ftrun.UserError');

export class UserError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[];

  constructor(code: ErrorCode, message: string, options: { problems?: Problem[]; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'UserError';
    this.code = code;
    this.problems = options.problems ?? [];
    Object.defineProperty(this, USER_ERROR, { value: true });
  }

  /** `e instanceof UserError` holds for a UserError made by any copy of ftrun. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[USER_ERROR] === true;
  }

  /** All problems of a config, reported together. */
  static config(problems: Problem[]): UserError {
    const n = problems.length;
    const head = `Config is not valid, found ${n} problem${n === 1 ? '' : 's'}:`;
    return new UserError('E_CONFIG', [head, ...problems.map((p) => '  ' + formatProblem(p))].join('\n'), { problems });
  }

  /** A single located problem. */
  static at(code: ErrorCode, problem: Problem): UserError {
    return new UserError(code, formatProblem(problem), { problems: [problem] });
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Did-you-mean: the closest candidate within a small edit distance. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestD <= limit ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
