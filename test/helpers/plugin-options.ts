/**
 * What plugin unit tests share: options as the config layer delivers them, and the user error a
 * call ends with.
 */
import { expect } from 'vitest';
import { configAjv } from '../../core/config/ajv.js';
import { UserError } from '../../core/errors.js';

/** `options` as the config layer delivers them to a plugin with `schema`: validated, defaults filled (a copy). */
export function withDefaults<T>(schema: object, options: Record<string, unknown>): T {
  const validate = configAjv({ allErrors: true, useDefaults: true }).compile(schema);
  const copy = structuredClone(options);
  if (!validate(copy)) throw new Error(JSON.stringify(validate.errors));
  return copy as T;
}

/** The UserError `p` rejects with; fails the test when it resolves or rejects with anything else. */
export async function userErrorOf(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('did not fail');
}
