/**
 * `${env:NAME}` and `${env:NAME:-default}` in string scalars. As in the shell, `:-` uses the
 * default when the variable is unset or empty; without a default an unset variable is an error.
 * `$${` writes a literal `${`. A plain (unquoted) scalar that is one interpolation and nothing else
 * takes the YAML type of its value (`seed: ${env:SEED:-42}` → 42); quote it to keep a string.
 */
import { parse } from 'yaml';

const PATTERN = /\$(\$?)\{env:([^}:]*)(?::-([^}]*))?\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Interpolated {
  value: unknown;
  /** Problems: unset variables without default, malformed names. */
  errors: string[];
}

/** Does this string contain an interpolation (or an escaped one)? */
export function hasInterpolation(s: string): boolean {
  return s.includes('{env:');
}

/** Where `${env:` starts an interpolation that PATTERN cannot read (unclosed, or a nested default). */
function malformedAt(s: string): number {
  const whole = /^\$\{env:[^}:$]*(?::-[^}$]*)?\}/;
  for (let i = s.indexOf('${env:'); i >= 0; i = s.indexOf('${env:', i + 1)) {
    if (i > 0 && s[i - 1] === '$') continue; // $${ is an escaped, literal ${
    if (!whole.test(s.slice(i))) return i;
  }
  return -1;
}

export function interpolate(s: string, env: NodeJS.ProcessEnv, plain: boolean): Interpolated {
  const errors: string[] = [];
  const bad = malformedAt(s);
  if (bad >= 0) {
    const piece = s.slice(bad, bad + 40);
    return { value: s, errors: [`malformed interpolation at "${piece}": write \${env:NAME} or \${env:NAME:-default}, closed by "}" (a default cannot contain \${…})`] };
  }
  let whole = false;
  const out = s.replace(PATTERN, (match, escape: string, name: string, def: string | undefined, offset: number) => {
    if (escape) return match.slice(1);
    if (!NAME.test(name)) {
      errors.push(`malformed interpolation "${match}": "${name}" is not a variable name`);
      return match;
    }
    if (offset === 0 && match.length === s.length) whole = true;
    const v = env[name];
    if (def !== undefined) return v === undefined || v === '' ? def : v;
    if (v === undefined) {
      errors.push(`environment variable ${name} is not set (write \${env:${name}:-default} to give a default)`);
      return '';
    }
    return v;
  });
  if (whole && plain && errors.length === 0) return { value: yamlScalar(out), errors };
  return { value: out, errors };
}

/** A number or boolean when the text reads as one in YAML; otherwise the text itself. */
function yamlScalar(text: string): unknown {
  try {
    const v: unknown = parse(text);
    return typeof v === 'number' || typeof v === 'boolean' ? v : text;
  } catch {
    return text;
  }
}
