// Mutation testing (`npm run mutation`, see docs/testing.md). One room at a time, picked by MUTATION_ROOM.
import { currentRoom } from './scripts/mutation/rooms.mjs';

const room = currentRoom();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutation/vitest.config.mjs', related: false },
  mutate: room.mutate,
  coverageAnalysis: 'perTest',
  // Module-level constants (a statement's text, a wait in seconds) would run every test of the room for each
  // of their mutants; the SQL step covers the statements.
  ignoreStatic: true,
  // The machine is shared: two test processes at most (MUTATION_CONCURRENCY=1 for one).
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  // Re-runs only test the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: `reports/mutation/${room.name}.incremental.json`,
  reporters: ['clear-text', 'json'],
  jsonReporter: { fileName: `reports/mutation/${room.name}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false },
  ignorePatterns: ['.data', '.serverless', '.esbuild', 'reports', 'bench/results*.json', 'coverage', '.stryker-tmp*'],
  tempDirName: `.stryker-tmp-${room.name}`,
  cleanTempDir: true,
  timeoutMS: 30_000,
  // The first run (every room test, with coverage, one file at a time) is slow on a shared machine.
  dryRunTimeoutMinutes: 40,
  thresholds: { high: 90, low: 85, break: null },
};
