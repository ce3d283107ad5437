import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config.js';
import { RecordingTooLargeError } from './errors.js';
import { s3Client } from './s3.js';
import { recordingSettings } from './settings.js';

export interface PutOptions {
  contentType: string;
  maxBytes: number;
}

/** Where archived recordings and transcripts live: the S3 bucket on AWS, `<DATA_DIR>/` locally. */
export interface RecordingStore {
  readonly kind: 's3' | 'local';
  /** The bucket (S3 only). */
  readonly bucket: string | undefined;
  /** Streams `body` to `key`; rejects with RecordingTooLargeError past `maxBytes` (nothing is kept). */
  put(key: string, body: Readable | Buffer, options: PutOptions): Promise<{ sizeBytes: number }>;
  getText(key: string, bucket?: string): Promise<string>;
  /** Deletes the keys; a missing key counts as deleted. */
  delete(keys: string[]): Promise<{ deleted: string[]; failed: string[] }>;
}

/** Counts bytes as they pass and fails the stream once the limit is crossed. */
class ByteLimit extends Transform {
  size = 0;
  exceeded = false;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.exceeded = true;
      callback(new RecordingTooLargeError(this.maxBytes));
      return;
    }
    callback(null, chunk);
  }
}

const toStream = (body: Readable | Buffer): Readable =>
  Buffer.isBuffer(body) ? Readable.from([body]) : body;

export function createS3Store(bucket: string): RecordingStore {
  return {
    kind: 's3',
    bucket,
    async put(key, body, options) {
      if (Buffer.isBuffer(body) && body.length > options.maxBytes) {
        throw new RecordingTooLargeError(options.maxBytes);
      }
      const limit = new ByteLimit(options.maxBytes);
      const { kmsKeyId } = recordingSettings();
      const upload = new Upload({
        client: s3Client(),
        params: {
          Bucket: bucket,
          Key: key,
          Body: limit,
          ContentType: options.contentType,
          ...(kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId } : {}),
        },
        // A failed part must not leave a half-written multipart upload behind.
        leavePartsOnError: false,
      });
      const feeding = pipeline(toStream(body), limit);
      try {
        await Promise.all([
          feeding,
          upload.done().catch((error: unknown) => {
            limit.destroy(error as Error);
            throw error;
          }),
        ]);
      } catch (error) {
        await upload.abort().catch(() => undefined);
        await feeding.catch(() => undefined);
        if (limit.exceeded) throw new RecordingTooLargeError(options.maxBytes);
        throw error;
      }
      return { sizeBytes: limit.size };
    },
    async getText(key, fromBucket = bucket) {
      const answer = await s3Client().send(new GetObjectCommand({ Bucket: fromBucket, Key: key }));
      return (await answer.Body?.transformToString('utf8')) ?? '';
    },
    async delete(keys) {
      const deleted: string[] = [];
      const failed: string[] = [];
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const answer = await s3Client().send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const errors = new Set((answer.Errors ?? []).map((error) => error.Key as string));
        for (const key of chunk) (errors.has(key) ? failed : deleted).push(key);
      }
      return { deleted, failed };
    },
  };
}

/** Files under `dataDir` (the local run has no AWS); keys are relative paths below it. */
export function createLocalStore(dataDir: string): RecordingStore {
  const root = resolve(dataDir);
  const pathOf = (key: string): string => {
    const path = resolve(join(root, key));
    if (!path.startsWith(root + sep)) throw new Error(`storage key escapes the data directory: ${key}`);
    return path;
  };
  return {
    kind: 'local',
    bucket: undefined,
    async put(key, body, options) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const partial = `${path}.${process.pid}.partial`;
      const limit = new ByteLimit(options.maxBytes);
      try {
        await pipeline(toStream(body), limit, createWriteStream(partial));
        await rename(partial, path);
      } catch (error) {
        await rm(partial, { force: true });
        throw limit.exceeded ? new RecordingTooLargeError(options.maxBytes) : error;
      }
      return { sizeBytes: limit.size };
    },
    async getText(key) {
      return readFile(pathOf(key), 'utf8');
    },
    async delete(keys) {
      const deleted: string[] = [];
      const failed: string[] = [];
      for (const key of keys) {
        try {
          await rm(pathOf(key), { force: true });
          deleted.push(key);
        } catch {
          failed.push(key);
        }
      }
      return { deleted, failed };
    },
  };
}

/** The store this configuration uses: the bucket when RECORDINGS_BUCKET is set, else the data directory. */
export function recordingStore(config: Pick<Config, 'recordingsBucket' | 'dataDir'>): RecordingStore {
  return config.recordingsBucket ? createS3Store(config.recordingsBucket) : createLocalStore(config.dataDir);
}
