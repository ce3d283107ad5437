import { S3Client } from '@aws-sdk/client-s3';
import { recordingSettings } from './settings.js';

let client: S3Client | undefined;

/** The container's S3 client, made on first use; honours S3_ENDPOINT (path-style) for local stand-ins. */
export function s3Client(): S3Client {
  if (!client) {
    const { s3Endpoint } = recordingSettings();
    client = new S3Client(s3Endpoint ? { endpoint: s3Endpoint, forcePathStyle: true } : {});
  }
  return client;
}

/** Forget the client (tests that move S3_ENDPOINT). */
export function resetS3Client(): void {
  client?.destroy();
  client = undefined;
}
