import { Metrics } from '@aws-lambda-powertools/metrics';
import { onTestFinished, vi } from 'vitest';

/**
 * Turns metrics on for the current test (the suite runs with them off) and returns the names of the metrics the
 * code adds, in order; restored when the test ends.
 */
export function countedMetrics(): () => string[] {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const added = vi.spyOn(Metrics.prototype, 'addMetric');
  onTestFinished(() => {
    added.mockRestore();
    vi.unstubAllEnvs();
  });
  return () => added.mock.calls.map(([name]) => name);
}
