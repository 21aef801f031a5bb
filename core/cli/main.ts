#!/usr/bin/env node
/**
 * The ftrun command line. Exit codes: 0 ok · 1 run failed · 2 usage or config error.
 * User errors print one clean message (no stack trace); stdout carries only `--json` output.
 * Each command's module is imported when that command runs, so `--help`, `validate`, `plan` and
 * `schema` load no model, training or database code (test/cli/startup.test.ts).
 */
import 'reflect-metadata';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IO } from '../commands/run.js';
import { maxThreads, threadCountProblem } from '../config/threads.js';
import { UserError, didYouMean } from '../errors.js';
import { abandoned, unsettled } from '../pending.js';
import { FTRUN_VERSION } from '../version.js';
import { one, parseArgs, type FlagSpec } from './args.js';
import { HELP, commandHelp } from './help.js';
import { overrideHint, sweepFlagToSet } from './hydra.js';

const COMMON: FlagSpec = { values: { set: { multi: true }, 'runs-dir': {} }, booleans: ['json', 'quiet', 'verbose', 'help'] };

const SPECS: Record<string, FlagSpec> = {
  run: { values: { ...COMMON.values, sweep: { multi: true }, tag: { multi: true }, note: {}, parallel: {}, trial: {}, 'sweep-dir': {}, queue: {}, _trial: {}, '_run-dir': {} }, booleans: [...COMMON.booleans, 'detach', 'cancel'] },
  worker: { values: { queue: {}, concurrency: {} }, booleans: ['help', 'verbose'] },
  validate: { values: { set: { multi: true }, sweep: { multi: true } }, booleans: ['json', 'quiet', 'verbose', 'help'] },
  plan: { values: { set: { multi: true }, sweep: { multi: true }, prepare: {} }, booleans: ['json', 'quiet', 'verbose', 'help'] },
  schema: { values: {}, booleans: ['help'] },
  diff: { values: { 'runs-dir': {} }, booleans: ['md', 'json', 'html', 'all', 'help'] },
  compare: { values: { 'runs-dir': {} }, booleans: ['md', 'json', 'html', 'help'] },
  rm: { values: { 'runs-dir': {} }, booleans: ['yes', 'help'] },
  ls: { values: { 'runs-dir': {}, tag: { multi: true } }, booleans: ['json', 'help'] },
  resume: { values: { 'runs-dir': {} }, booleans: ['json', 'quiet', 'verbose', 'help'] },
  sweep: { values: { 'runs-dir': {} }, booleans: ['json', 'help'] },
  dataset: { values: { project: {}, name: {}, split: {}, 'app-url': {}, rows: {}, set: { multi: true }, out: {} }, booleans: ['help', 'verbose', 'json', 'quiet'] },
};

/** A count given as a plain decimal number (`2`, not `0x2`, `2e0` or `+2`); NaN otherwise. */
function decimalCount(text: string): number {
  return /^[0-9]+$/.test(text) ? Number(text) : NaN;
}

export interface MainIO {
  out?: (s: string) => void;
  err?: (s: string) => void;
  signal?: AbortSignal;
  /** Ask the user a question on the terminal (ftrun rm); default: stdin when it is a terminal. */
  ask?: (question: string) => Promise<string>;
}

export async function main(argv: string[], mainIo: MainIO = {}): Promise<number> {
  const io: IO = {
    out: mainIo.out ?? ((s) => void process.stdout.write(s)),
    err: mainIo.err ?? ((s) => void process.stderr.write(s)),
    signal: mainIo.signal ?? new AbortController().signal,
  };
  let verbose = argv.includes('--verbose');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.out(argv[0] === 'help' && argv[1] ? commandHelp(argv[1]) : HELP);
      return 0;
    }
    if (argv[0] === '--version' || argv[0] === '-v') {
      io.out(`ftrun ${FTRUN_VERSION}\n`);
      return 0;
    }
    let [command, ...rest] = argv as [string, ...string[]];
    if (!(command in SPECS)) {
      if (/\.(ya?ml)$/i.test(command) || command.includes('/')) {
        rest = argv;
        command = 'run';
      } else {
        const names = Object.keys(SPECS).join(', ');
        const hint = didYouMean(command, Object.keys(SPECS));
        throw new UserError('E_USAGE', `unknown command "${command}".${hint ? ` Did you mean "${hint}"?` : ''} Commands: ${names} (or a config file to run). See: ftrun --help`);
      }
    }
    const p = parseArgs(rest, SPECS[command]!, command);
    verbose = p.flags.has('verbose');
    if (p.flags.has('help')) {
      io.out(commandHelp(command));
      return 0;
    }
    const needFile = (n: number, what: string) => {
      // `ftrun run x.yaml training.epochs=2`: the Hydra habit, without --set
      if (p.positionals.length > n && SPECS[command]!.values.set) {
        for (const arg of p.positionals) {
          const hint = overrideHint(command, arg, 'sweep' in SPECS[command]!.values);
          if (hint) throw hint;
        }
      }
      if (p.positionals.length !== n) {
        throw new UserError('E_USAGE', `ftrun ${command}: expected ${what}, got ${p.positionals.length ? p.positionals.join(' ') : 'nothing'}. See: ftrun ${command} --help`);
      }
    };
    // `--sweep path=a,b` is `--set sweep.grid["path"]=[a, b]`, after the --set flags
    const sets = [...(p.values.set ?? []), ...(p.values.sweep ?? []).map(sweepFlagToSet)];
    // A run named on the command line: a directory, latest, latest~N or a unique id prefix (core/run-names.ts).
    const runRef = async (ref: string) => (await import('../run-names.js')).resolveRunRef(ref, resolve(one(p, 'runs-dir') ?? 'runs'));
    switch (command) {
      case 'run': {
        needFile(1, 'one config file');
        const parallel = decimalCount(one(p, 'parallel') ?? '1');
        if (!(parallel >= 1)) throw new UserError('E_USAGE', `ftrun run: --parallel must be a positive whole number in decimal (e.g. 2), got "${one(p, 'parallel')}"`);
        const tooMany = threadCountProblem(parallel, 'worker processes');
        if (tooMany) throw new UserError('E_USAGE', `ftrun run: --parallel ${parallel}: ${tooMany}. Use --parallel ${maxThreads()} or less`);
        const trial = one(p, '_trial');
        const publicTrial = one(p, 'trial');
        const sweepDir = one(p, 'sweep-dir');
        if ((publicTrial === undefined) !== (sweepDir === undefined)) throw new UserError('E_USAGE', 'ftrun run: --trial N and --sweep-dir DIR go together (a trial of a sweep prepared with ftrun plan --prepare DIR)');
        // --tag / --note: recorded in env.json (and sweep.json), shown and filtered by ftrun ls
        const given = p.values.tag !== undefined || one(p, 'note') !== undefined;
        const labels = given ? { labels: (await import('../run-labels.js')).runLabels(p.values.tag ?? [], one(p, 'note')) } : {};
        const queue = one(p, 'queue');
        if (queue !== undefined) {
          if (parallel > 1 || publicTrial !== undefined) throw new UserError('E_USAGE', 'ftrun run: --queue runs the trials on workers; it does not go with --parallel or --trial');
          const { queueSweepCommand, queueTarget } = await import('../commands/queue.js');
          return await queueSweepCommand({ file: p.positionals[0]!, sets, queue: queueTarget('run', queue), runsDir: resolve(one(p, 'runs-dir') ?? 'runs'), detach: p.flags.has('detach'), cancel: p.flags.has('cancel'), json: p.flags.has('json'), quiet: p.flags.has('quiet'), ...labels }, io);
        }
        for (const f of ['detach', 'cancel']) if (p.flags.has(f)) throw new UserError('E_USAGE', `ftrun run: --${f} goes with --queue`);
        if (publicTrial !== undefined) {
          // --trial is checked against the sweep's trials (a plain decimal number in range) once they are known
          const { trialCommand } = await import('../commands/sweep-jobs.js');
          return await trialCommand({ file: p.positionals[0]!, sets, trial: publicTrial, dir: sweepDir!, argv, json: p.flags.has('json'), log: { quiet: p.flags.has('quiet'), verbose, write: io.err }, ...labels }, io);
        }
        const { runCommand } = await import('../commands/run.js');
        return await runCommand(
          {
            file: p.positionals[0]!,
            sets,
            runsDir: resolve(one(p, 'runs-dir') ?? 'runs'),
            json: p.flags.has('json'),
            quiet: p.flags.has('quiet'),
            verbose,
            parallel,
            trial: trial === undefined ? undefined : Number(trial),
            trialDir: one(p, '_run-dir'),
            argv,
            ...labels,
          },
          io,
        );
      }
      case 'validate':
      case 'plan': {
        needFile(1, 'one config file');
        const args = { file: p.positionals[0]!, sets, json: p.flags.has('json') };
        const prepareDir = one(p, 'prepare');
        if (prepareDir !== undefined) {
          const { prepareCommand } = await import('../commands/sweep-jobs.js');
          return await prepareCommand({ file: args.file, sets, dir: prepareDir }, io);
        }
        const { planCommand, validateCommand } = await import('../commands/validate.js');
        return command === 'validate' ? await validateCommand(args, io) : await planCommand(args, io);
      }
      case 'schema':
        needFile(0, 'no arguments');
        return (await import('../commands/schema.js')).schemaCommand(io);
      case 'diff': {
        needFile(2, 'two run directories');
        const formats = (['md', 'json', 'html'] as const).filter((f) => p.flags.has(f));
        if (formats.length > 1) throw new UserError('E_USAGE', `ftrun diff: ${formats.map((f) => `--${f}`).join(' and ')} each choose the output format; give one`);
        const format = formats[0] ?? 'text';
        const { diffCommand } = await import('../commands/diff.js');
        return await diffCommand({ a: await runRef(p.positionals[0]!), b: await runRef(p.positionals[1]!), all: p.flags.has('all'), format }, io);
      }
      case 'compare': {
        const formats = (['md', 'json', 'html'] as const).filter((f) => p.flags.has(f));
        if (formats.length > 1) throw new UserError('E_USAGE', `ftrun compare: ${formats.map((f) => `--${f}`).join(' and ')} each choose the output format; give one`);
        if (p.positionals.length === 0) needFile(2, 'two or more runs (directories, latest, latest~N or id prefixes) or a sweep');
        const { compareCommand } = await import('../commands/compare.js');
        return await compareCommand({ refs: p.positionals, runsDir: resolve(one(p, 'runs-dir') ?? 'runs'), format: formats[0] ?? 'text' }, io);
      }
      case 'rm': {
        if (p.positionals.length === 0) needFile(1, 'one or more runs or sweeps (directories, latest, latest~N or id prefixes)');
        const { rmCommand } = await import('../commands/rm.js');
        return await rmCommand({ refs: p.positionals, runsDir: resolve(one(p, 'runs-dir') ?? 'runs'), yes: p.flags.has('yes') }, { err: io.err, ask: mainIo.ask ?? (mainIo.err === undefined && process.stdin.isTTY ? askTerminal : undefined) });
      }
      case 'resume': {
        needFile(1, 'one run directory');
        const { resumeCommand } = await import('../commands/resume.js');
        return await resumeCommand({ runDir: await runRef(p.positionals[0]!), json: p.flags.has('json'), quiet: p.flags.has('quiet'), verbose, argv }, io);
      }
      case 'worker': {
        needFile(0, 'no arguments');
        const concurrency = decimalCount(one(p, 'concurrency') ?? '1');
        if (!(concurrency >= 1)) throw new UserError('E_USAGE', `ftrun worker: --concurrency must be a positive whole number in decimal (e.g. 2), got "${one(p, 'concurrency')}"`);
        const tooManyJobs = threadCountProblem(concurrency, 'trials at once');
        if (tooManyJobs) throw new UserError('E_USAGE', `ftrun worker: --concurrency ${concurrency}: ${tooManyJobs}. Use --concurrency ${maxThreads()} or less`);
        const { workerCommand, queueTarget } = await import('../commands/queue.js');
        return await workerCommand({ queue: queueTarget('worker', one(p, 'queue')), concurrency }, io);
      }
      case 'sweep': {
        const sub = p.positionals[0];
        if ((sub !== 'collect' && sub !== 'status') || p.positionals.length !== 2) throw new UserError('E_USAGE', `ftrun sweep: expected "collect <sweep-dir>" or "status <sweep-dir>", got ${p.positionals.length ? p.positionals.join(' ') : 'nothing'}. See: ftrun sweep --help`);
        const { collectCommand } = await import('../commands/sweep-jobs.js');
        return await collectCommand({ dir: await runRef(p.positionals[1]!), json: p.flags.has('json'), write: sub === 'collect' }, io);
      }
      case 'dataset': {
        if (p.positionals[0] === 'generate') {
          if (p.positionals.length !== 2) throw new UserError('E_USAGE', `ftrun dataset generate: expected one config file, got ${p.positionals.length > 1 ? p.positionals.slice(1).join(' ') : 'nothing'}. See: ftrun dataset --help`);
          for (const f of ['project', 'name', 'split', 'app-url', 'rows']) if (one(p, f) !== undefined) throw new UserError('E_USAGE', `ftrun dataset generate: --${f} goes with ftrun dataset ${f === 'rows' ? 'inspect' : 'push'}. See: ftrun dataset --help`);
          const { datasetGenerateCommand } = await import('../commands/dataset-generate.js');
          return await datasetGenerateCommand({ file: p.positionals[1]!, sets: p.values.set ?? [], ...(one(p, 'out') !== undefined ? { out: one(p, 'out') } : {}), json: p.flags.has('json'), quiet: p.flags.has('quiet'), verbose }, io);
        }
        for (const f of ['set', 'out', 'quiet']) if (p.values[f] !== undefined || p.flags.has(f)) throw new UserError('E_USAGE', `ftrun dataset: --${f} goes with ftrun dataset generate. See: ftrun dataset --help`);
        if (p.positionals[0] === 'inspect') {
          if (p.positionals.length !== 2) throw new UserError('E_USAGE', `ftrun dataset inspect: expected one data file, got ${p.positionals.length > 1 ? p.positionals.slice(1).join(' ') : 'nothing'}. See: ftrun dataset --help`);
          for (const f of ['project', 'name', 'split', 'app-url']) if (one(p, f) !== undefined) throw new UserError('E_USAGE', `ftrun dataset inspect: --${f} goes with ftrun dataset push. See: ftrun dataset --help`);
          const rows = decimalCount(one(p, 'rows') ?? '5');
          if (!(rows >= 0)) throw new UserError('E_USAGE', `ftrun dataset inspect: --rows must be a whole number in decimal (e.g. 5), got "${one(p, 'rows')}"`);
          const { datasetInspectCommand } = await import('../commands/dataset-inspect.js');
          return await datasetInspectCommand({ target: p.positionals[1]!, rows, json: p.flags.has('json') }, io);
        }
        if (p.positionals[0] !== 'push') throw new UserError('E_USAGE', `ftrun dataset: expected "push <file.jsonl>", "inspect <file>" or "generate <config.yaml>", got ${p.positionals.length ? p.positionals.join(' ') : 'nothing'}. See: ftrun dataset --help`);
        for (const f of ['rows', 'json']) if (one(p, f) !== undefined || p.flags.has(f)) throw new UserError('E_USAGE', `ftrun dataset push: --${f} goes with ftrun dataset ${f === 'rows' ? 'inspect' : 'inspect or generate'}. See: ftrun dataset --help`);
        if (p.positionals.length !== 2) throw new UserError('E_USAGE', 'ftrun dataset push: expected one JSONL file. See: ftrun dataset --help');
        const opt = (k: string) => one(p, k);
        const { datasetPushCommand } = await import('../commands/dataset.js');
        return await datasetPushCommand({ file: p.positionals[1]!, ...(opt('project') ? { project: opt('project') } : {}), ...(opt('name') ? { name: opt('name') } : {}), ...(opt('split') ? { split: opt('split') } : {}), ...(opt('app-url') ? { appUrl: opt('app-url') } : {}) }, io);
      }
      case 'ls': {
        if (p.positionals.length > 1) needFile(1, 'at most one runs directory');
        const dir = p.positionals[0] ?? one(p, 'runs-dir') ?? 'runs';
        const { lsCommand } = await import('../commands/ls.js');
        return await lsCommand({ runsDir: resolve(dir), format: p.flags.has('json') ? 'json' : 'text', tags: p.values.tag ?? [] }, io);
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`error[${e.code}]: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    io.err(`ftrun: run failed: ${err?.message ?? String(e)}\n`);
    if (verbose && err?.stack) io.err(err.stack + '\n');
    else io.err('(run with --verbose for the stack trace)\n');
    return 1;
  }
}

/** One answer typed on the terminal (stdin), the question written to stderr. */
async function askTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    const me = realpathSync(fileURLToPath(import.meta.url));
    const arg = realpathSync(process.argv[1]);
    return me === arg || arg.endsWith('/bin/ftrun.js') || arg.endsWith('/bin/ftrun');
  } catch {
    return false;
  }
}

/**
 * What SIGINT and SIGTERM do: the first stops gracefully (the run checkpoints and is marked
 * interrupted), a second one quits at once (exit 130 / 143).
 */
export function stopper(controller: AbortController, write: (text: string) => void, exit: (code: number) => void): (signal: 'SIGINT' | 'SIGTERM') => void {
  let interrupts = 0;
  return (signal) => {
    interrupts++;
    if (interrupts > 1) return exit(signal === 'SIGINT' ? 130 : 143);
    const again = signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM';
    write(`\n${signal === 'SIGINT' ? 'interrupt' : 'terminate'}: finishing the current step and marking the run interrupted (${again} again to quit now)\n`);
    controller.abort();
  };
}

if (isEntry()) {
  const controller = new AbortController();
  const stop = stopper(controller, (t) => void process.stderr.write(t), (code) => process.exit(code));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A sweep worker (--_trial) stops when the sweep process that started it is gone.
  // So does a trial run by a queue worker (ftrun worker), through its IPC channel.
  if (process.argv.includes('--_trial') || process.argv.includes('--trial')) {
    void import('../commands/run.js').then(({ watchParent }) => watchParent(() => controller.abort()));
  }
  // A command that did not finish never exits 0: when Node runs out of work with the command still
  // waiting (a plugin module whose top-level await never settles), name what it waited for.
  let finished = false;
  let drained = false;
  process.exitCode = 1;
  process.on('beforeExit', () => void (drained ||= !finished));
  process.on('exit', () => {
    if (finished || !drained) return;
    const e = unsettled();
    process.stderr.write(e ? `error[${e.code}]: ${e.message}\n` : 'ftrun: the command never finished: what it waited for can no longer happen\n');
    process.exitCode = e ? 2 : 1;
  });
  // `ftrun plan x.yaml | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(finished ? (process.exitCode ?? 0) : 0);
    throw e;
  });
  main(process.argv.slice(2), { signal: controller.signal }).then(
    (code) => {
      finished = true;
      process.exitCode = code;
      // Work given up on (a plugin still loading past its time limit) may hold the process open.
      if (abandoned()) process.exit(code);
    },
    (e) => {
      finished = true;
      process.stderr.write(`ftrun: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
