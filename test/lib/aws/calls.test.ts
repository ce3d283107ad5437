import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsRequestError, sqsSendMessage, ssmGetParameters } from '../../../lib/aws/index.js';
import { type FakeSsm, startFakeSsm } from '../../fakes/ssm.js';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type LocalSqs,
  receiveAll,
  startLocalSqs,
} from '../../support/aws.js';

const awsEnv = (extra: Record<string, string> = {}) => ({
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_SESSION_TOKEN: 'session-token-from-the-role',
  ...extra,
});

describe('sqsSendMessage (local SQS emulator)', () => {
  let sqs: LocalSqs;
  beforeAll(async () => {
    sqs = await startLocalSqs();
  });
  afterAll(async () => {
    await sqs.close();
  });

  it('puts the message on the queue, non-ASCII body intact', async () => {
    // Prepare
    const { url } = await sqs.createQueue('aws-calls-send');
    const body = JSON.stringify({ job: 'reply', text: 'Hola, ¿qué tal? ✓' });

    // Act
    const sent = await sqsSendMessage(
      { queueUrl: url, body },
      { env: awsEnv({ SQS_ENDPOINT: sqs.endpoint }) },
    );

    // Assess
    const received = await receiveAll(sqs, url);
    expect(received).toEqual([{ id: sent.messageId, body }]);
  });

  it('holds a delayed message back for its DelaySeconds', async () => {
    // Prepare
    const { url } = await sqs.createQueue('aws-calls-delay');

    // Act
    await sqsSendMessage(
      { queueUrl: url, body: '{"later":true}', delaySeconds: 60 },
      { env: awsEnv({ SQS_ENDPOINT: sqs.endpoint }) },
    );

    // Assess
    expect(await receiveAll(sqs, url, 0)).toEqual([]);
  });

  it('names the error SQS answers (a queue that does not exist)', async () => {
    // Act
    const sending = sqsSendMessage(
      { queueUrl: `${sqs.endpoint}/000000000000/no-such-queue`, body: '{}' },
      { env: awsEnv({ SQS_ENDPOINT: sqs.endpoint }) },
    );

    // Assess
    await expect(sending).rejects.toThrow(AwsRequestError);
    await expect(sending).rejects.toThrow(/QueueDoesNotExist|NonExistentQueue/);
  });

  it('refuses to call without credentials instead of sending an unsigned request', async () => {
    await expect(
      sqsSendMessage(
        { queueUrl: 'https://sqs.example/1/q', body: '{}' },
        { env: { AWS_REGION: 'us-east-1' } },
      ),
    ).rejects.toThrow(/MissingCredentials/);
  });
});

describe('ssmGetParameters (local fake)', () => {
  let ssm: FakeSsm;
  beforeAll(async () => {
    ssm = await startFakeSsm({ '/app/a': 'alpha', '/app/b': 'beta' });
  });
  afterAll(async () => {
    await ssm.close();
  });

  it('returns decrypted values and names the missing parameters, signed with the session token', async () => {
    // Act
    const answer = await ssmGetParameters(['/app/a', '/app/b', '/app/missing'], {
      env: awsEnv({ SSM_ENDPOINT: ssm.endpoint }),
    });

    // Assess
    expect(Object.fromEntries(answer.values)).toEqual({ '/app/a': 'alpha', '/app/b': 'beta' });
    expect(answer.invalid).toEqual(['/app/missing']);
  });

  it('asks at most 10 names per request', async () => {
    // Prepare
    const names = Array.from({ length: 12 }, (_, i) => `/app/n${i}`);
    ssm.calls.length = 0;

    // Act
    const answer = await ssmGetParameters(names, { env: awsEnv({ SSM_ENDPOINT: ssm.endpoint }) });

    // Assess
    expect(ssm.calls.map((call) => call.length)).toEqual([10, 2]);
    expect(answer.invalid).toHaveLength(12);
  });

  it('gives up within its time bound when SSM does not answer', async () => {
    // Prepare
    ssm.delayMs = 2000;
    const started = Date.now();

    // Act
    const asking = ssmGetParameters(['/app/a'], {
      env: awsEnv({ SSM_ENDPOINT: ssm.endpoint }),
      timeoutMs: 150,
    });

    // Assess
    await expect(asking).rejects.toThrow(/Timeout/);
    expect(Date.now() - started).toBeLessThan(1000);
    ssm.delayMs = 0;
  });

  it('tries once more when SSM fails on its side', async () => {
    // Prepare
    ssm.failWith = { status: 500, type: 'InternalServerError' };
    ssm.calls.length = 0;

    // Act
    const asking = ssmGetParameters(['/app/a'], { env: awsEnv({ SSM_ENDPOINT: ssm.endpoint }) });

    // Assess
    await expect(asking).rejects.toMatchObject({ code: 'InternalServerError', status: 500 });
    expect(ssm.calls).toHaveLength(2);
    ssm.failWith = undefined;
  });

  it('does not retry a refusal', async () => {
    // Prepare
    ssm.failWith = { status: 400, type: 'AccessDeniedException' };
    ssm.calls.length = 0;

    // Act
    const asking = ssmGetParameters(['/app/a'], { env: awsEnv({ SSM_ENDPOINT: ssm.endpoint }) });

    // Assess
    await expect(asking).rejects.toMatchObject({ code: 'AccessDeniedException', status: 400 });
    expect(ssm.calls).toHaveLength(1);
    ssm.failWith = undefined;
  });
});
