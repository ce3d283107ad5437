import { Logger } from '@aws-lambda-powertools/logger';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'pedro-webhooks';

/** JSON logs; callers pass only masked values. */
export const logger = new Logger({ serviceName });

/** CloudWatch namespace of the EMF metrics the dashboard and alarms read. */
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'PedroWebhooks';

export type MetricUnit = 'Count' | 'Seconds';

/** Metrics switched off (the local gateway, tests): nothing is written. */
const disabled = () => process.env.POWERTOOLS_METRICS_DISABLED === 'true';

/**
 * One metric as a CloudWatch embedded-metric-format line on stdout, which CloudWatch Logs turns into the metric.
 * Every metric here is published the moment it happens, with its own dimensions (plus `service`), so this is all
 * of EMF the functions need: written directly rather than through a metrics client and its buffering. stdout,
 * not console.log, which Lambda prefixes and would make the line unreadable as EMF.
 */
function publish(name: string, unit: MetricUnit, value: number, dimensions: Record<string, string>): void {
  if (disabled()) return;
  const values = { service: serviceName, ...dimensions };
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [Object.keys(values)], Metrics: [{ Name: name, Unit: unit }] },
      ],
    },
    ...values,
    [name]: value,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** One count with its own dimensions, published at once. */
export function countMetric(name: string, dimensions: Record<string, string> = {}, value = 1): void {
  publish(name, 'Count', value, dimensions);
}

/** One measured value (a backlog's age, say) with no dimensions, published at once. */
export function gaugeMetric(name: string, value: number, unit: MetricUnit = 'Seconds'): void {
  publish(name, unit, value, {});
}
