/**
 * Seeded fuzzing against a live server for a fixed number of operations (see
 * e2e/fixtures/fuzzer.ts for what is sent and how the outcome is judged).
 * Longer runs: node --import tsx scripts/fuzz.mts --seconds 300 --seed <n>.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from './fixtures/server';
import { fuzz } from './fixtures/fuzzer';
import { testSeed, withSeed } from './fixtures/random';
import { healthy } from './fixtures/hostile';

const FILE = 'e2e/fuzz.test.ts';
const OPERATIONS = Number(process.env.FUZZ_OPERATIONS ?? 1000);
let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
});

it(`survives ${OPERATIONS} seeded honest, hostile, mutated and junk operations with nothing refused stored`, async () => {
  const seed = testSeed();
  await withSeed(FILE, seed, async () => {
    const report = await fuzz(server, { seed, operations: OPERATIONS, restart: true });
    console.log(`fuzz seed ${seed}: ${report.operations} operations, ${report.storedMessages} messages stored`, report.counts);
    expect(report.operations).toBe(OPERATIONS);
    expect(await healthy(server)).toBe(true);
  });
});
