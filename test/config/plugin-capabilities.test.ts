/**
 * A loss must say which example shape it reads (`needs`) and a miner which shapes it makes
 * (`provides`, each one a loss can read). definePlugin makes the compiler refuse a loss without
 * `needs` (test/cli/ts-plugin.test.ts); a plain JavaScript class, or a definePlugin call cast
 * around its types, is refused by `validate` at its `plugins:` entry.
 */
import { expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const P = 'test/fixtures/config/plugins';

it('validate refuses a loss without a valid `needs` and a miner whose `provides` no loss accepts, at the plugins: entry', async () => {
  const r = await cli(['validate', `${P}/capabilities.yaml`]);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    'error[E_CONFIG]: Config is not valid, found 6 problems:\n' +
      `  ${P}/capabilities.yaml:3:5 plugins[0]: plugin module "./capabilities.mjs": export "NoNeeds": loss "no-needs" declares no \`needs\`: the example shape its compute() reads (one of: labelled, pairs, triplets, labelled-pairs)\n` +
      `  ${P}/capabilities.yaml:3:5 plugins[0]: plugin module "./capabilities.mjs": export "TypoNeeds": loss "typo-needs" needs string "pair", which is not an example shape. Did you mean "pairs"? Example shapes: labelled, pairs, triplets, labelled-pairs.\n` +
      `  ${P}/capabilities.yaml:3:5 plugins[0]: plugin module "./capabilities.mjs": export "NoProvides": miner "no-provides" declares no \`provides\`: the example shapes its examples can be read as (a list, each one of: labelled, pairs, triplets, labelled-pairs)\n` +
      `  ${P}/capabilities.yaml:3:5 plugins[0]: plugin module "./capabilities.mjs": export "EmptyProvides": miner "empty-provides" provides an empty list, which no loss accepts: give a list of example shapes (each one of: labelled, pairs, triplets, labelled-pairs)\n` +
      `  ${P}/capabilities.yaml:3:5 plugins[0]: plugin module "./capabilities.mjs": export "TypoProvides": miner "typo-provides" provides string "triplet", which no loss accepts. Did you mean "triplets"? Example shapes: labelled, pairs, triplets, labelled-pairs.\n` +
      `  ${P}/capabilities.yaml:4:5 plugins[1]: plugin module "./cast-loss.ts": export "default": loss "cast" declares no \`needs\`: the example shape its compute() reads (one of: labelled, pairs, triplets, labelled-pairs)\n`,
  );
});
