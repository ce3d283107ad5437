import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../../lib/aws/sigv4.js';

// The example identity of AWS's published Signature Version 4 test suite and documentation.
const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const signatureOf = (authorization: string | undefined) =>
  authorization?.match(/Signature=([0-9a-f]{64})$/)?.[1];

class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

describe('signRequest', () => {
  it('matches the suite vector get-vanilla', () => {
    // Prepare: GET / on example.amazonaws.com at 20150830T123600Z, service "service" in us-east-1
    const request = { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '' };

    // Act
    const headers = signRequest(request, {
      service: 'service',
      region: 'us-east-1',
      credentials: SUITE,
      date: new Date('2015-08-30T12:36:00Z'),
    });

    // Assess
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('matches the S3 documentation example (GET Object with a range)', () => {
    // Prepare
    const request = {
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: {
        Range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      body: '',
    };

    // Act
    const headers = signRequest(request, {
      service: 's3',
      region: 'us-east-1',
      credentials: {
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      },
      date: new Date('2013-05-24T00:00:00Z'),
    });

    // Assess
    expect(signatureOf(headers.authorization)).toBe(
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('signs a JSON-protocol POST with a session token exactly as the SDK signer does', async () => {
    // Prepare
    const credentials = { ...SUITE, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE/token+with=chars' };
    const date = new Date('2026-11-30T08:09:10Z');
    const url = new URL('https://sqs.ca-central-1.amazonaws.com/');
    const body = JSON.stringify({
      QueueUrl: 'https://sqs.ca-central-1.amazonaws.com/1/q',
      MessageBody: 'é ✓',
    });
    const sdk = new SignatureV4({
      service: 'sqs',
      region: 'ca-central-1',
      credentials,
      sha256: Sha256 as never,
    });

    // Act
    const ours = signRequest(
      {
        method: 'POST',
        url,
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'AmazonSQS.SendMessage',
          // the SDK signer adds the payload digest header by default; sign the same header set
          'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        },
        body,
      },
      { service: 'sqs', region: 'ca-central-1', credentials, date },
    );
    const theirs = await sdk.sign(
      {
        method: 'POST',
        protocol: 'https:',
        hostname: url.hostname,
        path: '/',
        headers: {
          host: url.hostname,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'AmazonSQS.SendMessage',
        },
        body,
      },
      { signingDate: date },
    );

    // Assess
    expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(signatureOf(ours.authorization)).toBe(signatureOf(theirs.headers.authorization));
  });
});
