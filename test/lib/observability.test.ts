import { describe, expect, it } from 'vitest';
import { countMetric, gaugeMetric } from '../../lib/observability.js';
import { captureMetrics } from '../support/metrics.js';

describe('metrics as CloudWatch embedded metric format', () => {
  it('writes one line per metric, its dimensions and the service declared and given values', () => {
    // Prepare
    const metrics = captureMetrics();

    // Act
    countMetric('Request', { route: 'twilio/sms/status', status: '204' });
    gaugeMetric('EventsOldestUnpublishedSeconds', 42);
    gaugeMetric('AlertsUndelivered', 3, 'Count');

    // Assess
    expect(metrics.lines).toHaveLength(3);
    const [request, backlog, undelivered] = metrics.lines;
    expect(request).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'PedroWebhooks',
            Dimensions: [['service', 'route', 'status']],
            Metrics: [{ Name: 'Request', Unit: 'Count' }],
          },
        ],
      },
      service: 'pedro-webhooks',
      route: 'twilio/sms/status',
      status: '204',
      Request: 1,
    });
    expect(typeof (request!._aws as unknown as { Timestamp: unknown }).Timestamp).toBe('number');
    expect(backlog).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Dimensions: [['service']], Metrics: [{ Unit: 'Seconds' }] }] },
      EventsOldestUnpublishedSeconds: 42,
    });
    expect(undelivered).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'AlertsUndelivered', Unit: 'Count' }] }] },
      AlertsUndelivered: 3,
    });
  });

  it('writes nothing when metrics are switched off (the local gateway, tests)', () => {
    // Prepare
    const metrics = captureMetrics();
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';

    // Act
    countMetric('Request', { route: 'twilio/sms/status' });

    // Assess
    expect(metrics.lines).toEqual([]);
  });
});
