import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setConfig } from '../../../lib/config.js';
import { QueueUnavailableError, sendMessage } from '../../../lib/queue/index.js';
import { type LocalSqs, receiveAll, startLocalSqs } from '../../support/aws.js';
import { useConfig } from '../../support/config.js';

describe('sendMessage on SQS (local emulator)', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs(); // also sets the AWS_* credentials the runtime would
    process.env.SQS_ENDPOINT = sqs.endpoint;
  });
  afterAll(async () => {
    delete process.env.SQS_ENDPOINT;
    await sqs.close();
  });
  afterEach(() => setConfig(undefined));

  it('queues the JSON body to the configured queue', async () => {
    // Prepare
    const { url } = await sqs.createQueue('send-message-outbound');
    useConfig({ OUTBOUND_SMS_QUEUE_URL: url });

    // Act
    await sendMessage('outboundSms', { kind: 'reply', to: '+15145550100' });

    // Assess
    const received = await receiveAll(sqs, url);
    expect(received.map((message) => JSON.parse(message.body))).toEqual([
      { kind: 'reply', to: '+15145550100' },
    ]);
  });

  it('reports an unreachable queue as QueueUnavailableError within its bound', async () => {
    // Prepare
    useConfig({ INGEST_QUEUE_URL: `${sqs.endpoint}/000000000000/missing`, SQS_TIMEOUT_MS: '500' });

    // Act & Assess
    await expect(sendMessage('ingest', { a: 1 })).rejects.toThrow(QueueUnavailableError);
  });
});
