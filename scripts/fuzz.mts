/**
 * Longer fuzzing runs than CI's (e2e/fuzz.test.ts), against a real server
 * started the way the tests start it.
 *
 *   node --import tsx scripts/fuzz.mts --seconds 300 [--seed 42] [--check-every 50] [--no-restart]
 *
 * Operations are a function of the seed, so a failure at step N replays with
 * the same seed and any budget that reaches step N; --check-every compares the
 * stored document with the model every N steps to find the step that diverged.
 */
import { parseArgs } from 'node:util';
import { startServer } from '../e2e/fixtures/server';
import { fuzz } from '../e2e/fixtures/fuzzer';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    'check-every': { type: 'string' },
    'no-restart': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const seconds = Number(values.seconds);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const checkEvery = values['check-every'] !== undefined ? Number(values['check-every']) : undefined;
if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seed) || (checkEvery !== undefined && !(checkEvery > 0))) {
  console.error('usage: node --import tsx scripts/fuzz.mts --seconds N [--seed S] [--check-every N] [--no-restart] [--verbose]');
  process.exit(2);
}

console.log(`fuzz: seed ${seed}, ${seconds} s`);
const server = await startServer({ verbose: values.verbose });
let failed = false;
try {
  const report = await fuzz(server, { seed, seconds, checkEvery, restart: !values['no-restart'], log: (line) => console.log(line) });
  const counts = Object.entries(report.counts).sort(([a], [b]) => a.localeCompare(b));
  console.log(`ok: ${report.operations} operations, ${report.storedMessages} messages stored`);
  for (const [what, n] of counts) console.log(`  ${what.padEnd(56)} ${n}`);
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? error.message : error);
  console.error(`\nreproduce with: node --import tsx scripts/fuzz.mts --seed ${seed} --seconds ${seconds} --check-every 1`);
  console.error(`or in CI form:  SEED=${seed} FUZZ_OPERATIONS=<failing step + 1> ./node_modules/.bin/vitest run e2e/fuzz.test.ts`);
} finally {
  await server.stop();
}
process.exit(failed ? 1 : 0);
