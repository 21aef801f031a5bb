/** A small, strict argv parser: unknown flags are usage errors with a did-you-mean. */
import { UserError, didYouMean } from '../errors.js';

export interface FlagSpec {
  /** Flags that take a value; `multi` ones may repeat. */
  values: Record<string, { multi?: boolean }>;
  booleans: string[];
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: string[], spec: FlagSpec, command: string): ParsedArgs {
  const out: ParsedArgs = { positionals: [], values: {}, flags: new Set() };
  const known = [...Object.keys(spec.values), ...spec.booleans];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(0, eq) : arg).replace(/^--?/, '');
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (name in spec.values) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UserError('E_USAGE', `ftrun ${command}: --${name} needs a value`);
      const list = (out.values[name] ??= []);
      if (list.length && !spec.values[name]!.multi) throw new UserError('E_USAGE', `ftrun ${command}: --${name} given twice`);
      list.push(value);
    } else if (spec.booleans.includes(name)) {
      if (inline !== undefined) throw new UserError('E_USAGE', `ftrun ${command}: --${name} takes no value`);
      out.flags.add(name);
    } else {
      const hint = didYouMean(name, known.filter((k) => !k.startsWith('_')));
      throw new UserError(
        'E_USAGE',
        `ftrun ${command}: unknown option --${name}.${hint ? ` Did you mean --${hint}?` : ''} See: ftrun ${command} --help`,
      );
    }
  }
  return out;
}

export function one(p: ParsedArgs, name: string): string | undefined {
  return p.values[name]?.[0];
}
