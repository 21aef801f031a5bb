/**
 * Issue 18 §4: a sweep prints one line per finished trial (number, status and where a trial that
 * did not finish ended, primary metric, duration, its error) sequentially and with --parallel
 * (the queue's follower and workers: test/cli/queue.test.ts), and a failed trial's error and stage
 * are in env.json, its report.md, leaderboard.md and leaderboard.html.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

/** Two trials without training; the second's k=100 is larger than the corpus: it fails right after loading its data. */
function sweepFile(): { dir: string; file: string } {
  const dir = tempDir('ftrun-trial-lines-');
  const file = join(dir, 'sweep.yaml');
  writeFileSync(
    file,
    `name: lines\ndataset: { type: jsonl, queries: ${TRANSACTIONS}/eval_transactions.jsonl, corpus: { path: ${TRANSACTIONS}/categories.json, text: category } }\nmodel: { path: ${TINY_BERT} }\nsinks: [{ type: markdown }, { type: html }]\nsweep:\n  grid:\n    evaluate.k: [[1], [1, 100]]\n`,
  );
  return { dir, file };
}

const ERROR = (file: string) => `${file}:7:23 evaluate.k[1]: k=100 is larger than the corpus (27 documents); use k ≤ 27`;

describeShared('one line per finished trial, and the failed trial\'s error on its pages', () => {
  for (const mode of [[], ['--parallel', '2']]) {
    it(`ftrun run ${mode.join(' ') || '(sequential)'}: a line per finished trial with its status, primary metric and duration; the failure's stage and error`, async () => {
      const { dir, file } = sweepFile();
      const r = await cli(['run', file, '--runs-dir', join(dir, 'runs'), '--json', ...mode]);
      expect(r.code, r.stderr).toBe(1);
      const sweepDir = (JSON.parse(r.stdout) as { sweep_dir: string }).sweep_dir;
      const metrics = JSON.parse(readFileSync(join(sweepDir, 'trials', '1', 'metrics.json'), 'utf8')) as { models: { base: Record<string, number> } };
      const lines = r.stderr.split('\n');
      const ok = lines.filter((l) => l.startsWith('trial 1/2 ok'));
      expect(ok).toHaveLength(1);
      expect(ok[0]).toMatch(new RegExp(`^trial 1/2 ok: MRR@1 ${metrics.models.base['mrr@1']!.toFixed(3)} \\(base\\), \\d+\\.\\d s$`));
      const failed = lines.filter((l) => l.startsWith('trial 2/2 failed'));
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(/^trial 2\/2 failed after stage dataset: MRR@1 —, \d+\.\d s: /);
      expect(failed[0]!.replace(/^.*?, \d+\.\d s: /, '')).toBe(ERROR(file));

      // env.json: where it ended and why
      const env = JSON.parse(readFileSync(join(sweepDir, 'trials', '2', 'env.json'), 'utf8')) as Record<string, unknown>;
      expect(env).toMatchObject({ status: 'failed', after_stage: 'dataset', error: { message: ERROR(file), code: 'E_DATA' }, finished_at: expect.any(String) });
      expect(env.stage).toBeUndefined();
      // report.md of the failed trial
      expect(readFileSync(join(sweepDir, 'trials', '2', 'report.md'), 'utf8')).toContain(`- status: failed\n- primary metric: MRR@1\n- run directory: \`${join(sweepDir, 'trials', '2')}\`\n- ended after stage: \`dataset\`\n\n## Error\n\n\`\`\`\n${ERROR(file)}\n\`\`\`\n`);
      // leaderboard.md and leaderboard.html
      const md = readFileSync(join(sweepDir, 'leaderboard.md'), 'utf8');
      expect(md).toContain('| — | 2 | evaluate.k=[1,100] | failed after stage dataset |');
      expect(md).toContain(`## Trials that did not finish\n\nTrial 2 (evaluate.k=[1,100]): failed after stage dataset\n\n\`\`\`\n${ERROR(file)}\n\`\`\`\n`);
      const html = readFileSync(join(sweepDir, 'leaderboard.html'), 'utf8');
      expect(html).toContain(`<div class="error" id="trial-2"><b><a href="trials/2/report.html">Trial 2</a> (evaluate.k=[1,100]): failed after stage dataset</b>\n${ERROR(file)}</div>`);
      expect(html).toContain('<a href="trials/1/report.html">1</a>');
      // the failed trial's report.html
      const report = readFileSync(join(sweepDir, 'trials', '2', 'report.html'), 'utf8');
      expect(report).toContain(`<div class="error" id="outcome"><b>failed after stage dataset</b>\n${ERROR(file)}</div>`);
    }, 180_000);
  }
});
