import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handOnTexts, parseStoredTextJob } from '../../../lib/messages/outbound.js';
import { logger } from '../../../lib/observability.js';
import { localQueues } from '../../../lib/queue/index.js';
import { useConfig } from '../../support/config.js';

// The outbound-sms queue's job: only a provider we send through and a whole row id make a job; handing texts
// on is best effort (the stored rows are the record, and the relay hands on whatever the queue did not take).
describe('an outbound-sms job', () => {
  it.each([
    [{ provider: 'twilio', messageId: 42 }],
    [{ provider: 'voipms', messageId: 7, extra: 'ignored' }],
  ])('%j is a job for that row', (job) => {
    expect(parseStoredTextJob(JSON.stringify(job))).toEqual({
      provider: job.provider,
      messageId: job.messageId,
    });
  });

  it.each([
    ['not JSON', 'not json'],
    ['another provider', JSON.stringify({ provider: 'fax', messageId: 1 })],
    ['no provider', JSON.stringify({ messageId: 1 })],
    ['no id', JSON.stringify({ provider: 'twilio' })],
    ['an id as text', JSON.stringify({ provider: 'twilio', messageId: '1' })],
    ['a fractional id', JSON.stringify({ provider: 'voipms', messageId: 1.5 })],
    ['an id past the safe integers', JSON.stringify({ provider: 'voipms', messageId: 2 ** 53 })],
    ['null', 'null'],
  ])('%s is no job', (_, body) => {
    expect(parseStoredTextJob(body)).toBeUndefined();
  });
});

describe('handing stored texts on', () => {
  beforeEach(() => localQueues.reset());
  afterEach(() => {
    vi.restoreAllMocks();
    localQueues.reset();
  });

  it('puts one job per text on the outbound-sms queue, in order', async () => {
    useConfig();
    await handOnTexts([
      { provider: 'twilio', messageId: 1 },
      { provider: 'voipms', messageId: 2 },
    ]);
    expect(localQueues.messages('outboundSms')).toEqual([
      { provider: 'twilio', messageId: 1 },
      { provider: 'voipms', messageId: 2 },
    ]);
  });

  it('a queue that refuses them is not an error: each text is left for the relay, and said so', async () => {
    useConfig({ OUTBOUND_SMS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/outbound-sms' });
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);

    await expect(
      handOnTexts([
        { provider: 'twilio', messageId: 1 },
        { provider: 'voipms', messageId: 2 },
      ]),
    ).resolves.toBeUndefined();

    expect(warn.mock.calls.map((call) => (call[1] as { messageId: number }).messageId)).toEqual([1, 2]);
    expect(warn.mock.calls[0]![1]).toMatchObject({ error: expect.stringContaining('outboundSms') });
  });
});
