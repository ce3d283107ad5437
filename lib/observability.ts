import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'pedro-webhooks';

/** JSON logs; callers pass only masked values. */
export const logger = new Logger({ serviceName });

/** CloudWatch namespace of the EMF metrics the dashboard and alarms read. */
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PedroWebhooks';

// One Metrics object per set of dimensions, created once per container: building one reads the environment
// each time, which costs more than the count itself on the hot path.
const byDimensions = new Map<string, Metrics>();

/**
 * Metrics switched off (the local gateway, tests): skipped before Powertools, which would otherwise read the
 * environment again for every metric it adds (a cost on every request) only to drop the line.
 */
const disabled = () => process.env.POWERTOOLS_METRICS_DISABLED === 'true';

/** One count with its own dimensions, published at once as a CloudWatch EMF line. */
export function countMetric(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  if (disabled()) return;
  const key = JSON.stringify(dimensions);
  let emitter = byDimensions.get(key);
  if (!emitter) {
    emitter = new Metrics({ serviceName, namespace, defaultDimensions: dimensions });
    if (byDimensions.size < 1000) byDimensions.set(key, emitter);
  }
  emitter.addMetric(name, MetricUnit.Count, value);
  emitter.publishStoredMetrics();
}

/** One measured value (a backlog's age, say) with no dimensions, published at once. */
export function gaugeMetric(name: string, value: number, unit = MetricUnit.Seconds): void {
  if (disabled()) return;
  const emitter = new Metrics({ serviceName, namespace });
  emitter.addMetric(name, unit, value);
  emitter.publishStoredMetrics();
}
