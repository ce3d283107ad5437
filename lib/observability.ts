import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'pedro-webhooks';

/** JSON logs; callers pass only masked values. */
export const logger = new Logger({ serviceName });

/** CloudWatch EMF metrics, flushed once per invocation by the handler wrappers. */
export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PedroWebhooks',
});

export { MetricUnit };

/** One count with one dimension, without leaking the dimension into the next metric of the invocation. */
export function countMetric(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, MetricUnit.Count, value);
}
