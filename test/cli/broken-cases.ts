/**
 * Broken inputs for the CLI: each case writes its files into a fresh temp dir `<dir>`, runs the
 * CLI there and expects exit code 2 with exactly `stderr` (with the temp dir shown as `<dir>`).
 */
import { TINY_BERT, TRANSACTIONS } from '../helpers/shared.js';
import { probeProvider } from '../../plugins/backend/ort.js';

export interface BrokenCase {
  name: string;
  files: Record<string, string>;
  /** argv; `<dir>` is replaced by the case's temp dir. */
  args: string[];
  env?: Record<string, string>;
  stderr: string;
}

const DATA = TRANSACTIONS;
/** The providers this machine can start: webgpu only where onnxruntime finds a GPU adapter (see test/cli/faults-validate.test.ts). */
const USABLE = probeProvider('webgpu') === undefined ? 'cpu, webgpu' : 'cpu';
/** A valid experiment, to break one piece at a time. */
export const VALID = `name: broken
dataset:
  type: jsonl
  queries: ${DATA}/train_transactions.jsonl
  eval: ${DATA}/eval_transactions.jsonl
  corpus: { path: ${DATA}/categories.json, text: category }
model:
  path: ${TINY_BERT}
store:
  type: memory
sinks: []
`;

const replace = (from: string, to: string) => VALID.replace(from, to);
const run = ['run', '<dir>/x.yaml', '--runs-dir', '<dir>/runs', '--quiet'];
const validate = ['validate', '<dir>/x.yaml'];

export const CASES: BrokenCase[] = [
  {
    name: 'YAML syntax error',
    files: { 'x.yaml': 'name: broken\ndataset: { type: jsonl\nmodel: x\n' },
    args: validate,
    stderr: "error[E_YAML]: <dir>/x.yaml:3:1 Flow map in block collection must be sufficiently indented and end with a }\n",
  },
  {
    name: 'wrong type',
    files: { 'x.yaml': VALID + 'seed: forty-two\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:7 seed: expected an integer, found string \"forty-two\"\n",
  },
  {
    name: 'unknown top-level key with did-you-mean',
    files: { 'x.yaml': VALID + 'evalute:\n  k: [1]\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:1 evalute: unknown top-level key \"evalute\". Did you mean \"evaluate\"? Allowed: backend, dataset, description, evaluate, extends, loss, miner, model, name, plugins, seed, sinks, splitter, store, sweep, training.\n",
  },
  {
    name: 'unknown plugin type',
    files: { 'x.yaml': replace('type: jsonl', 'type: jsonll') },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:3:9 dataset.type: unknown dataset plugin \"jsonll\". Did you mean \"jsonl\"? Available: braintrust, csv, generate, hf, jsonl, parquet, synthetic-transactions.\n",
  },
  {
    name: 'unknown plugin option',
    files: { 'x.yaml': VALID + 'splitter: { type: ratio, tset: 0.3 }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:26 splitter.tset: unknown option \"tset\". Did you mean \"test\"? Allowed: seed, shuffle, stratify, test.\n",
  },
  {
    name: 'option out of range',
    files: { 'x.yaml': VALID + 'splitter: { type: ratio, test: 1.5 }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:32 splitter.test: must be < 1, found number 1.5\n",
  },
  {
    name: 'enum value not allowed',
    files: { 'x.yaml': replace(`  path: ${TINY_BERT}`, `  path: ${TINY_BERT}\n  pooling: first`) },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:9:12 model.pooling: invalid value \"first\". Allowed: cls, mean, max.\n",
  },
  {
    name: 'missing required section',
    files: { 'x.yaml': 'name: broken\nmodel: { path: /m }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml missing required key \"dataset\"\n",
  },
  {
    name: 'model with both id and path',
    files: { 'x.yaml': replace(`  path: ${TINY_BERT}`, `  path: ${TINY_BERT}\n  id: BAAI/bge-base-en`) },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:7:1 model: give only one of \"id\" (a hub model id), \"path\" (a model directory) or \"bundled\"; found \"id\" and \"path\"\n",
  },
  {
    name: 'several problems reported together',
    files: { 'x.yaml': replace('type: memory', 'type: memroy') + 'seed: -1.5\nevaluate: { k: [1, 3], primary: mrr@10 }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 2 problems:\n  <dir>/x.yaml:10:9 store.type: unknown store plugin \"memroy\". Did you mean \"memory\"? Available: lancedb, memory.\n  <dir>/x.yaml:12:7 seed: expected an integer, found number -1.5\n",
  },
  {
    name: 'primary metric not computed',
    files: { 'x.yaml': VALID + 'evaluate: { metrics: [recall], primary: mrr@1 }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:41 evaluate.primary: metric \"mrr\" is not in evaluate.metrics. Choices: recall@1, recall@3, recall@5.\n",
  },
  {
    name: 'finetuned without training',
    files: { 'x.yaml': VALID + 'evaluate: { compare: [base, finetuned] }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:29 evaluate.compare[1]: \"finetuned\" needs a trained model, but training.method is \"none\"\n",
  },
  {
    name: 'missing config file',
    files: {},
    args: ['validate', '<dir>/nope.yaml'],
    stderr: "error[E_FILE]: cannot read config file <dir>/nope.yaml: no such file\n",
  },
  {
    name: 'extends cycle',
    files: { 'x.yaml': 'extends: ./a.yaml\n' + VALID, 'a.yaml': 'extends: ./x.yaml\nseed: 1\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/a.yaml:1:10 extends: extends cycle: <dir>/x.yaml → <dir>/a.yaml → <dir>/x.yaml\n",
  },
  {
    name: 'extends a missing file',
    files: { 'x.yaml': 'extends: [./base.yaml]\n' + VALID },
    args: validate,
    stderr: "error[E_FILE]: <dir>/x.yaml:1:11 extends[0]: cannot read \"./base.yaml\" (<dir>/base.yaml): no such file\n",
  },
  {
    name: 'unset environment variable',
    files: { 'x.yaml': VALID + 'seed: ${env:FTRUN_TEST_UNSET_SEED}\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:7 seed: environment variable FTRUN_TEST_UNSET_SEED is not set (write ${env:FTRUN_TEST_UNSET_SEED:-default} to give a default)\n",
  },
  {
    name: 'bad --set (no =)',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', 'seed'],
    stderr: "error[E_USAGE]: --set \"seed\": expected path=value (e.g. --set loss.margin=0.5)\n",
  },
  {
    name: '--set on a path no plugin accepts',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', 'store.dim=3'],
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  --set store.dim: unknown option \"dim\". Allowed: (none).\n",
  },
  {
    name: 'sweep zip lists of different lengths',
    files: { 'x.yaml': VALID + 'sweep:\n  zip:\n    seed: [1, 2]\n    evaluate.k: [[1], [1, 3], [5]]\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:13:3 sweep.zip: zip lists must have equal lengths: seed has 2 values, evaluate.k has 3 values\n",
  },
  {
    name: 'custom plugin module missing',
    files: { 'x.yaml': 'plugins: [./my-plugin.mjs]\n' + VALID },
    args: validate,
    stderr: "error[E_FILE]: <dir>/x.yaml:1:11 plugins[0]: plugin module \"./my-plugin.mjs\" not found (<dir>/my-plugin.mjs)\n",
  },
  {
    name: 'unknown command',
    files: {},
    args: ['trian', 'x.yaml'],
    stderr: "error[E_USAGE]: unknown command \"trian\". Commands: run, worker, validate, plan, schema, diff, compare, rm, ls, resume, sweep, dataset (or a config file to run). See: ftrun --help\n",
  },
  {
    name: 'unknown flag',
    files: { 'x.yaml': VALID },
    args: ['run', '<dir>/x.yaml', '--runs-dri', '<dir>/runs'],
    stderr: "error[E_USAGE]: ftrun run: unknown option --runs-dri. Did you mean --runs-dir? See: ftrun run --help\n",
  },
  {
    name: 'bad --parallel',
    files: { 'x.yaml': VALID },
    args: [...run, '--parallel', '0'],
    stderr: "error[E_USAGE]: ftrun run: --parallel must be a positive whole number in decimal (e.g. 2), got \"0\"\n",
  },
  {
    name: 'missing data file',
    files: { 'x.yaml': replace(`${DATA}/train_transactions.jsonl`, './train.jsonl') },
    args: run,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:4:12 dataset.queries: file not found: <dir>/train.jsonl\n',
  },
  {
    name: 'empty dataset',
    files: { 'x.yaml': replace(`${DATA}/train_transactions.jsonl`, './train.jsonl'), 'train.jsonl': '\n' },
    args: run,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:4:12 dataset.queries: <dir>/train.jsonl: no records\n',
  },
  {
    name: 'malformed JSONL line',
    files: {
      'x.yaml': replace(`${DATA}/train_transactions.jsonl`, './train.jsonl'),
      'train.jsonl': '{"input": "Uber ride", "expected": ["Travel"]}\n{"input": "Lunch", "expected": [Meals]}\n',
    },
    args: run,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:4:12 dataset.queries: <dir>/train.jsonl:2: invalid JSON: Unexpected token 'M' (column 33)\n",
  },
  {
    name: 'expected labels missing from the corpus',
    files: {
      'x.yaml': replace(`${DATA}/train_transactions.jsonl`, './train.jsonl'),
      'train.jsonl': '{"input": "Uber ride", "expected": ["Travel & Transportaton"]}\n',
    },
    args: run,
    stderr:
      'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:6:3 dataset.corpus: 1 expected label is not in the corpus (<shared>/data/transactions/categories.json, 27 documents):\n    <dir>/train.jsonl:1: "Travel & Transportaton"\n',
  },
  {
    name: 'k larger than the corpus',
    files: { 'x.yaml': VALID + 'evaluate: { k: [1, 5, 50] }\n' },
    args: run,
    stderr: "error[E_DATA]: <dir>/x.yaml:12:23 evaluate.k[2]: k=50 is larger than the corpus (27 documents); use k ≤ 27\n",
  },
  {
    name: 'unreadable model directory',
    files: { 'x.yaml': replace(`path: ${TINY_BERT}`, 'path: ./model'), 'model/README.md': 'not a model\n' },
    args: run,
    stderr: "error[E_MODEL]: <dir>/x.yaml:8:9 model.path: unreadable model directory <dir>/model: missing config.json and tokenizer.json (expected a Hugging Face model directory with config.json and tokenizer.json)\n",
  },
  {
    name: 'model not cached while offline',
    files: { 'x.yaml': replace(`path: ${TINY_BERT}`, 'id: example-org/never-downloaded') },
    args: run,
    env: { HF_HUB_OFFLINE: '1', HF_HOME: '<dir>/hf' },
    stderr: "error[E_MODEL]: <dir>/x.yaml:8:7 model.id: model \"example-org/never-downloaded\" is not in the Hugging Face cache (<dir>/hf/hub/models--example-org--never-downloaded) and HF_HUB_OFFLINE=1: download it once with network access, or point model.path at a local directory\n",
  },
  {
    name: 'bundled model on a backend that cannot load it',
    files: { 'x.yaml': replace(`path: ${TINY_BERT}`, 'bundled: use-lite') + 'backend: { type: ort }\n' },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:18 backend.type: backend ort cannot load bundled model use-lite. Backends that can: tfjs.\n",
  },
  {
    name: 'full fine-tuning of a frozen bundled model',
    files: {
      'x.yaml':
        replace(`path: ${TINY_BERT}`, 'bundled: use-lite') +
        'backend: { type: tfjs }\nloss: { type: multiple-negatives-ranking }\nminer: { type: random-negative }\ntraining: { method: full }\n',
    },
    args: validate,
    stderr: "error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:15:21 training.method: bundled model use-lite is a frozen graph and cannot be fully fine-tuned; use training.method: adapter\n",
  },
  {
    name: 'execution provider not installed (validate)',
    files: { 'x.yaml': VALID + 'backend: { type: ort, execution_providers: [cuda, cpu] }\n' },
    args: validate,
    stderr: `error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:23 backend.execution_providers: cuda is not installed in this onnxruntime-node: onnxruntime-node's install script downloads cuda (Linux x64, CUDA 12): reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, without onnxruntime-node-install=skip in .npmrc. Usable here: ${USABLE}.\n`,
  },
  {
    name: 'execution provider not installed (run fails before loading data)',
    files: { 'x.yaml': VALID.replace('train_transactions.jsonl', 'missing.jsonl') + 'backend: { type: ort, execution_providers: [tensorrt] }\ntraining: { method: full }\nloss: { type: batch-semi-hard-triplet }\n' },
    args: run,
    stderr: `error[E_CONFIG]: Config is not valid, found 2 problems:\n  <dir>/x.yaml:4:12 dataset.queries: file not found: <shared>/data/transactions/missing.jsonl\n  <dir>/x.yaml:12:23 backend.execution_providers: tensorrt is not installed in this onnxruntime-node: onnxruntime-node's install script downloads tensorrt (Linux x64, CUDA 12): reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, without onnxruntime-node-install=skip in .npmrc. Usable here: ${USABLE}.\n`,
  },
  {
    name: 'prototype key in a --set path',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', '__proto__.polluted=1'],
    stderr: 'error[E_USAGE]: --set "__proto__.polluted=1": in path "__proto__.polluted": "__proto__" cannot be a key: JavaScript reserves it (__proto__, constructor, prototype)\n',
  },
  {
    name: 'prototype key in a --set value',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', '__proto__={x: 1}'],
    stderr: 'error[E_USAGE]: --set "__proto__={x: 1}": in path "__proto__": "__proto__" cannot be a key: JavaScript reserves it (__proto__, constructor, prototype)\n',
  },
  {
    name: 'prototype key inside a --set mapping',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', 'store={type: memory, constructor: {x: 1}}'],
    stderr: 'error[E_USAGE]: --set "store={type: memory, constructor: {x: 1}}": in the value: "constructor" cannot be a key: JavaScript reserves it (__proto__, constructor, prototype)\n',
  },
  {
    name: 'prototype key in the experiment file',
    files: { 'x.yaml': VALID + '__proto__:\n  polluted: 1\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: <dir>/x.yaml:12:1 __proto__: "__proto__" cannot be a key: JavaScript reserves it (__proto__, constructor, prototype)\n',
  },
  {
    name: 'prototype key in a sweep path',
    files: { 'x.yaml': VALID + 'sweep:\n  grid:\n    "prototype.x": [1, 2]\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:14:5 sweep.grid["prototype.x"]: bad sweep path: in path "prototype.x": "prototype" cannot be a key: JavaScript reserves it (__proto__, constructor, prototype)\n',
  },
  {
    name: 'YAML alias bomb',
    files: {
      'x.yaml': ['name: bomb', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n') + '\n',
    },
    args: validate,
    stderr: 'error[E_YAML]: <dir>/x.yaml:3:20 a3[7][9][2]: more than 1000 alias uses (*name) after expansion; an experiment file needs far fewer\n',
  },
  {
    name: 'nesting thousands deep',
    files: { 'x.yaml': `name: deep\nx: ${'['.repeat(20000)}${']'.repeat(20000)}\n` },
    args: validate,
    stderr: 'error[E_YAML]: <dir>/x.yaml:2:1 nesting too deep to read (thousands of levels); an experiment file nests a few levels\n',
  },
  {
    name: 'a million-trial sweep',
    files: { 'x.yaml': VALID + `sweep:\n  grid:\n    seed: [${Array.from({ length: 1000 }, (_, i) => i).join(', ')}]\n    loss.margin: [${Array.from({ length: 1000 }, (_, i) => i + 1).join(', ')}]\n` },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:1 sweep: expands to 1,000,000 trials, more than sweep.max_trials (1000, the default); shorten the lists, or raise sweep.max_trials if you mean it\n',
  },
  {
    name: 'markdown report outside the run directory',
    files: { 'x.yaml': VALID.replace('sinks: []', 'sinks: [{ type: markdown, file: ../../../victim.txt }]') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:11:33 sinks[0].file: must stay inside the run directory, found "../../../victim.txt"\n',
  },
  {
    name: 'markdown report over a contract file',
    files: { 'x.yaml': VALID.replace('sinks: []', 'sinks: [{ type: markdown, file: metrics.json }]') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:11:33 sinks[0].file: "metrics.json" would replace the run\'s own metrics.json (the run directory\'s contract: resolved.yaml, metrics.json, per_query.jsonl, events.jsonl, env.json, summary.jsonl, model, adapter, merged, checkpoints, lancedb, generated.jsonl, generated_corpus.jsonl); choose another name\n',
  },
  {
    name: 'experiment name that leaves the runs directory',
    files: { 'x.yaml': VALID.replace('name: broken', 'name: ".."') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:1:7 name: string ".." does not match the pattern ^[A-Za-z0-9_-][A-Za-z0-9._-]*$\n',
  },
  {
    name: 'several YAML documents in one file',
    files: { 'x.yaml': VALID + '---\nname: second\n' },
    args: validate,
    stderr: 'error[E_YAML]: <dir>/x.yaml:12:1 the file holds more than one YAML document (a "---" line starts the next): an experiment file is one document; remove the "---", or split the file and share parts with extends:\n',
  },
  {
    name: 'extends from an unset variable',
    files: { 'x.yaml': VALID + 'extends: ${env:FTRUN_TEST_UNSET_BASE}\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:10 extends: environment variable FTRUN_TEST_UNSET_BASE is not set (write ${env:FTRUN_TEST_UNSET_BASE:-default} to give a default)\n',
  },
  {
    name: 'nested ${env:…} default',
    files: { 'x.yaml': VALID + 'seed: ${env:FTRUN_A:-${env:FTRUN_B}}\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:7 seed: malformed interpolation at "${env:FTRUN_A:-${env:FTRUN_B}}": write ${env:NAME} or ${env:NAME:-default}, closed by "}" (a default cannot contain ${…})\n',
  },
  {
    name: 'unclosed ${env:…}',
    files: { 'x.yaml': VALID.replace('name: broken', 'name: "${env:FTRUN_X"') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:1:7 name: malformed interpolation at "${env:FTRUN_X": write ${env:NAME} or ${env:NAME:-default}, closed by "}" (a default cannot contain ${…})\n',
  },
  {
    name: 'unknown YAML tag',
    files: { 'x.yaml': VALID + 'description: !secret hidden\n' },
    args: validate,
    stderr: 'error[E_YAML]: <dir>/x.yaml:12:14 unknown YAML tag !secret: experiment files use plain values (secrets come from ${env:NAME})\n',
  },
  {
    name: '--runs-dir that is a file',
    files: { 'x.yaml': VALID, 'afile': 'not a directory\n' },
    args: ['run', '<dir>/x.yaml', '--runs-dir', '<dir>/afile', '--quiet'],
    stderr: 'error[E_USAGE]: --runs-dir <dir>/afile: cannot create <dir>/afile/broken: a file is in the way: <dir>/afile is not a directory\n',
  },
  {
    name: '--parallel without a sweep',
    files: { 'x.yaml': VALID },
    args: [...run, '--parallel', '2'],
    stderr: 'error[E_USAGE]: ftrun run: --parallel 2 runs sweep trials side by side, but <dir>/x.yaml has no sweep: section; drop --parallel\n',
  },
  {
    name: '--set extends',
    files: { 'x.yaml': VALID },
    args: [...validate, '--set', 'extends=./base.yaml'],
    stderr: 'error[E_USAGE]: --set "extends=./base.yaml": extends is read with the experiment file, before --set applies; write extends: in the file (or --set the values themselves)\n',
  },
  {
    name: 'diff --md --json',
    files: {},
    args: ['diff', '<dir>/a', '<dir>/b', '--md', '--json'],
    stderr: 'error[E_USAGE]: ftrun diff: --md and --json each choose the output format; give one\n',
  },
  {
    name: 'hard-negative window that holds no rank (validate)',
    files: { 'x.yaml': VALID + 'miner: { type: hard-negative, range_min: 5, range_max: 5 }\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:56 miner.range_max: must be greater than range_min (5), got 5: the window [range_min, range_max) would be empty\n',
  },
  {
    name: 'LanceDB uri that is a file (validate)',
    files: { 'x.yaml': VALID.replace('type: memory', 'type: lancedb\n  uri: ./afile'), 'afile': 'x\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:11:8 store.uri: cannot hold the database: <dir>/afile exists and is not a directory\n',
  },
  {
    name: 'json sink path below a file (validate)',
    files: { 'x.yaml': VALID.replace('sinks: []', 'sinks: [{ type: json, path: ./afile/summary.jsonl }]'), 'afile': 'x\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:11:29 sinks[0].path: cannot append to it: <dir>/afile is a file, so <dir>/afile/summary.jsonl cannot be created below it\n',
  },
  {
    name: 'tfjs device node-gpu without its package (validate)',
    files: { 'x.yaml': VALID + 'backend: { type: tfjs, device: node-gpu }\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:32 backend.device: node-gpu needs @tensorflow/tfjs-node-gpu, which is not installed: npm install @tensorflow/tfjs-node-gpu (it needs CUDA 11.2 and cuDNN 8, and downloads libtensorflow when it installs); or use device: auto\n',
  },
  {
    name: 'model directory that does not exist (validate)',
    files: { 'x.yaml': VALID.replace(`path: ${TINY_BERT}`, 'path: ./no-model-here') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:8:9 model.path: no such directory: <dir>/no-model-here\n',
  },
  {
    name: 'max_seq_length over the model limit (validate)',
    files: { 'x.yaml': VALID.replace(`path: ${TINY_BERT}`, `path: ${TINY_BERT}\n  max_seq_length: 512`) },
    args: validate,
    stderr: `error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:9:19 model.max_seq_length: 512 is more than the model's max_position_embeddings (128, <shared>/fixtures/sentence-transformers/tiny-bert/config.json)\n`,
  },
  {
    name: 'batch larger than the training set (run, before any model loads)',
    files: { 'x.yaml': VALID + 'miner: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\ntraining: { method: adapter, batch_size: 4096 }\n' },
    args: run,
    stderr: 'error[E_CONFIG]: <dir>/x.yaml:14:42 training.batch_size: 4096 is more than the 260 training examples the miner made, so not one batch can be formed; lower training.batch_size or add training data\n',
  },
  {
    name: 'resume of a run whose env.json is damaged',
    files: { 'run/resolved.yaml': VALID, 'run/env.json': '{"status": "runn' },
    args: ['resume', '<dir>/run'],
    stderr: "error[E_RUN]: <dir>/run/env.json: cannot resume: the run's env.json is damaged (not valid JSON); the run cannot be continued, start a new one\n",
  },
  {
    name: 'misspelt key inside a string-or-mapping option',
    files: { 'x.yaml': VALID.replace('corpus: { path:', 'corpus: { txt: category, path:') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:6:13 dataset.corpus.txt: unknown option "txt". Did you mean "text"? Allowed: extensions, id, path, text.\n',
  },
  {
    name: 'dataset.label missing from the data (validate reads the first records)',
    files: { 'x.yaml': VALID.replace('  eval:', '  label: category_x\n  eval:') },
    args: validate,
    stderr:
      'error[E_CONFIG]: Config is not valid, found 2 problems:\n' +
      '  <dir>/x.yaml:5:10 dataset.label: field "category_x" (the class label) is not in the first record of <shared>/data/transactions/train_transactions.jsonl (line 1; fields present: input, expected)\n' +
      '  <dir>/x.yaml:5:10 dataset.label: field "category_x" (the class label) is not in the first record of <shared>/data/transactions/eval_transactions.jsonl (line 1; fields present: input, expected)\n',
  },
  {
    name: 'plugin with an invalid options schema',
    files: { 'x.yaml': VALID + 'plugins: [./bad.mjs]\n', 'bad.mjs': 'export class X {\n  static stage = "sink";\n  static type = "x";\n  static description = "d";\n  static schema = { type: "object", properties: { a: { type: "strin" } } };\n}\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:11 plugins[0]: plugin module "./bad.mjs": export "X" has an invalid options schema: schema is invalid: data/properties/a/type must be equal to one of the allowed values, data/properties/a/type must be array, data/properties/a/type must match a schema in anyOf\n',
  },
  {
    name: 'corpus id field missing from the data (validate)',
    files: { 'x.yaml': VALID.replace(`corpus: { path: ${DATA}/categories.json, text: category }`, `corpus:\n    path: ${DATA}/categories.json\n    text: category\n    id: key`) },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:9:9 dataset.corpus.id: field "key" (the document id) is not in the first record of <shared>/data/transactions/categories.json (line 1; fields present: category, sample_transactions, departments)\n',
  },
  {
    name: 'field splitter naming a field the data does not have (validate reads the first record)',
    files: { 'x.yaml': VALID.replace('store:', 'splitter:\n  type: field\n  field: part\nstore:') },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:11:10 splitter.field: field "part" is not in the dataset\'s records (fields present in the first record of <shared>/data/transactions/train_transactions.jsonl (line 1): input, expected)\n',
  },
  {
    name: 'field splitter naming a field synthetic records do not have',
    files: { 'x.yaml': 'name: broken\ndataset: { type: synthetic-transactions }\nsplitter: { type: field, field: split }\nmodel:\n  path: ' + TINY_BERT + '\nsinks: []\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:3:33 splitter.field: field "split" is not in the dataset\'s records (fields present in every synthetic-transactions record: merchant_name, merchant_category, department, location, amount, spend_program_name, trip_name, expense_category)\n',
  },
  {
    name: 'options that cannot take effect are refused where they are written (one per class of case)',
    files: {
      'x.yaml':
        VALID.replace(`model:\n  path: ${TINY_BERT}`, `model:\n  path: ${TINY_BERT}\n  revision: v2`) +
        'splitter: { type: ratio, shuffle: false, seed: 3 }\n' +
        'miner: { type: hard-negative, seed: 4 }\n' +
        'loss: { type: multiple-negatives-ranking }\n' +
        'backend: { type: tfjs, device: cpu, threads: 4 }\n' +
        'training:\n  method: adapter\n  epochs: 2\n  max_steps: 10\n  warmup_steps: 3\n  warmup_ratio: 0.2\n  samples_per_label: 4\n  adapter: { kind: linear, hidden: 64 }\n',
    },
    args: validate,
    stderr:
      'error[E_CONFIG]: Config is not valid, found 8 problems:\n' +
      "  <dir>/x.yaml:9:13 model.revision: has no effect here: a revision is of a hub model (model.id); this model is not from the hub; remove it\n" +
      "  <dir>/x.yaml:13:48 splitter.seed: has no effect here: it seeds the shuffle, and shuffle is false; remove it\n" +
      "  <dir>/x.yaml:14:37 miner.seed: has no effect here: it seeds sampling_strategy random, and sampling_strategy is top; remove it\n" +
      "  <dir>/x.yaml:16:46 backend.threads: has no effect here: they are the wasm device's XNNPACK threads, and device is cpu; remove it\n" +
      "  <dir>/x.yaml:19:11 training.epochs: has no effect here: max_steps (10) sets the length of training and overrides epochs; remove it\n" +
      "  <dir>/x.yaml:22:17 training.warmup_ratio: has no effect here: warmup_steps (3) sets the warmup; warmup_ratio is used only when warmup_steps is 0; remove it\n" +
      "  <dir>/x.yaml:23:22 training.samples_per_label: has no effect here: it sizes the groups of batch_sampler group-by-label (batch_sampler is no-duplicates); remove it\n" +
      "  <dir>/x.yaml:24:36 training.adapter.hidden: has no effect here: only an mlp adapter has a hidden layer (adapter.kind is linear); remove it\n",
  },
  {
    name: 'a training option of a method that does not train',
    files: { 'x.yaml': VALID + 'training: { method: none, learning_rate: 1.0e-4 }\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:42 training.learning_rate: has no effect here: training.method none does not use it; remove it\n',
  },
  {
    name: 'TypeScript plugin module with a syntax error (named at its line and column)',
    files: { 'x.yaml': VALID + 'plugins: [./bad.ts]\n', 'bad.ts': 'import { definePlugin } from "ftrun";\nconst x: number = ;\nexport default definePlugin;\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:11 plugins[0]: cannot import plugin module "./bad.ts": <dir>/bad.ts:2:18: Unexpected token\n',
  },
  {
    name: 'plugin module that is neither JavaScript nor TypeScript',
    files: { 'x.yaml': VALID + 'plugins: [./p.py]\n', 'p.py': 'print(1)\n' },
    args: validate,
    stderr: 'error[E_CONFIG]: Config is not valid, found 1 problem:\n  <dir>/x.yaml:12:11 plugins[0]: plugin module "./p.py" must be a JavaScript (.js, .mjs, .cjs) or TypeScript (.ts, .mts, .cts) file, or an npm package name\n',
  },
];
