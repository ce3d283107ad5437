import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../functions/outbound-sms-worker.js';
import { localQueues, sendMessage } from '../../lib/queue/index.js';
import { useSqsLikeQueue } from '../lib/queue/sqs-like.js';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_BASE_URL, useConfig } from '../support/config.js';
import { useTestDb } from '../support/db.js';

const testDb = useTestDb();

/** A local stand-in for the Twilio Messages API: records requests, answers what the test scripts. */
interface FakeAnswer {
  status: number;
  body: unknown;
}
const requests: { path: string; authorization: string; form: URLSearchParams }[] = [];
let answers: FakeAnswer[] = [];
let sent = 0;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        authorization: req.headers.authorization ?? '',
        form: new URLSearchParams(body),
      });
      const answer = answers.shift() ?? {
        status: 201,
        body: { sid: `SM${String(++sent).padStart(32, 'f')}`, status: 'queued' },
      };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const job = (overrides: Record<string, unknown> = {}) => ({
  provider: 'twilio',
  to: '+14155550123',
  from: '+15005550006',
  body: 'Sorry we missed your call & <hi>',
  kind: 'missed-call',
  ...overrides,
});
const sqsEvent = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `m-${i}`,
    receiptHandle: `r-${i}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:outbound-sms',
    awsRegion: 'us-east-1',
  })),
});
const outboundRows = async () =>
  (await testDb.db.query('SELECT provider_message_id, to_number, body, status, kind FROM sms_messages')).rows;

describe('outbound SMS worker (Twilio Messages API)', () => {
  beforeEach(() => {
    useConfig({ TWILIO_API_BASE_URL: baseUrl });
    requests.length = 0;
    answers = [];
  });

  it('sends with Basic auth and a status callback, and stores the row under the returned sid', async () => {
    // Prepare
    answers = [{ status: 201, body: { sid: `SM${'1'.repeat(32)}`, status: 'queued' } }];
    // Act
    const result = await handler(sqsEvent(job()));
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Messages.json`);
    expect(request!.authorization).toBe(
      `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`,
    );
    expect(Object.fromEntries(request!.form)).toEqual({
      To: '+14155550123',
      From: '+15005550006',
      Body: 'Sorry we missed your call & <hi>',
      StatusCallback: `${TEST_BASE_URL}/webhooks/twilio/sms/status`,
    });
    expect(await outboundRows()).toEqual([
      {
        provider_message_id: `SM${'1'.repeat(32)}`,
        to_number: '+14155550123',
        body: 'Sorry we missed your call & <hi>',
        status: 'queued',
        kind: 'missed-call',
      },
    ]);
  });

  it('21610 (recipient opted out) records the opt-out and is not retried', async () => {
    answers = [
      {
        status: 400,
        body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 },
      },
    ];
    const result = await handler(sqsEvent(job()));
    expect(result.batchItemFailures).toEqual([]);
    expect((await testDb.db.query('SELECT phone_number FROM opt_outs')).rows).toEqual([
      { phone_number: '+14155550123' },
    ]);
    expect(await outboundRows()).toEqual([]);
  });

  it('a 5xx or 429 fails only that record (partial batch failure) for a retry', async () => {
    answers = [
      { status: 201, body: { sid: `SM${'2'.repeat(32)}`, status: 'queued' } },
      { status: 503, body: { message: 'unavailable' } },
    ];
    const result = await handler(sqsEvent(job({ to: '+14155550111' }), job({ to: '+14155550122' })));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(await outboundRows()).toHaveLength(1);
  });

  it('a permanent refusal (400 other than 21610) is dropped, not retried', async () => {
    answers = [{ status: 400, body: { code: 21211, message: "Invalid 'To' Phone Number" } }];
    const result = await handler(sqsEvent(job()));
    expect(result.batchItemFailures).toEqual([]);
  });

  it('skips a recipient that opted out after the text was queued, without calling Twilio', async () => {
    await testDb.db.query(`INSERT INTO opt_outs (phone_number, keyword) VALUES ('+14155550123', 'STOP')`);
    const result = await handler(sqsEvent(job()));
    expect(result.batchItemFailures).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('drops malformed jobs without retrying them', async () => {
    const result = await handler(sqsEvent('not json', { provider: 'fax', to: 'x', body: 'y' }));
    expect(result.batchItemFailures).toEqual([]);
    expect(requests).toEqual([]);
  });
});

describe('outbound SMS worker fed by the SQS-like local queue (redelivered, shuffled, batched)', () => {
  beforeEach(() => {
    useConfig({ TWILIO_API_BASE_URL: baseUrl });
    requests.length = 0;
    answers = [];
  });
  afterEach(() => localQueues.reset());

  const recipients = Array.from({ length: 10 }, (_, i) => `+1415555${String(1000 + i)}`);
  /** Ten missed-call texts; Twilio answers the first request 503 (partial batch failure), then accepts. */
  async function sendThroughQueue() {
    const queue = useSqsLikeQueue('outboundSms', handler);
    answers = [{ status: 503, body: { message: 'unavailable' } }];
    for (const to of recipients) await sendMessage('outboundSms', job({ to }));
    await queue.settled();
    return queue;
  }
  const acceptedRequestsTo = (to: string) => requests.filter((request) => request.form.get('To') === to);

  it('texts every recipient despite the failed record, nothing dead-lettered', async () => {
    const queue = await sendThroughQueue();

    expect(queue.duplicates()).toBeGreaterThan(0);
    expect(queue.deadLetters()).toEqual([]);
    const rows = await testDb.db.query<{ to_number: string }>('SELECT DISTINCT to_number FROM sms_messages');
    expect(rows.rows.map((row) => row.to_number).sort()).toEqual(recipients);
    for (const to of recipients) expect(acceptedRequestsTo(to).length).toBeGreaterThanOrEqual(1);
  });

  // Known gap (issue 13, point 6): a Twilio job has no claim, so a duplicate delivery texts the patient twice.
  // Turn `it.fails` into `it` once the worker claims its job.
  it.fails('sends exactly one text per job, however often the job is delivered', async () => {
    await sendThroughQueue();

    // 10 accepted sends plus the one 503.
    expect(requests).toHaveLength(11);
    // Each recipient once, and the one whose first request got the 503 once more.
    const perRecipient = recipients.map((to) => acceptedRequestsTo(to).length).sort();
    expect(perRecipient).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
    const rows = await testDb.db.query('SELECT provider_message_id FROM sms_messages');
    expect(rows.rows).toHaveLength(10);
  });
});
