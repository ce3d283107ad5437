import { Metrics } from '@aws-lambda-powertools/metrics';
import { onTestFinished, vi } from 'vitest';

/**
 * Turns metrics on for the current test (the suite runs with them off) and returns the names of the metrics the
 * code adds, in order; restored when the test ends.
 */
export function countedMetrics(): () => string[] {
  const published = metricsPublished();
  return () => published().map(({ name }) => name);
}

interface EmfRecord {
  _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** As countedMetrics, with the dimensions each metric is published under (what the alarms select on). */
export function metricsPublished(): () => { name: string; dimensions: Record<string, unknown> }[] {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const original = Metrics.prototype.publishStoredMetrics;
  const records: EmfRecord[] = [];
  const publish = vi.spyOn(Metrics.prototype, 'publishStoredMetrics').mockImplementation(function (
    this: Metrics,
  ) {
    records.push(this.serializeMetrics() as unknown as EmfRecord);
    return original.call(this);
  });
  onTestFinished(() => {
    publish.mockRestore();
    vi.unstubAllEnvs();
  });
  return () =>
    records.flatMap((record) =>
      record._aws.CloudWatchMetrics.flatMap(({ Dimensions, Metrics: metrics }) =>
        metrics.map(({ Name }) => ({
          name: Name,
          dimensions: Object.fromEntries(Dimensions.flat().map((key) => [key, record[key]])),
        })),
      ),
    );
}
