/** Recording settings not (yet) in lib/config.ts, read once from the environment. */
export interface RecordingSettings {
  /** KMS key for SSE-KMS on uploads; unset means the bucket's default encryption. */
  kmsKeyId: string | undefined;
  /** Largest recording accepted; a bigger one fails permanently as `too_large`. */
  maxBytes: number;
  /** S3 endpoint override (local stand-ins in tests); path-style addressing when set. */
  s3Endpoint: string | undefined;
  /** Bound on one provider download. */
  downloadTimeoutMs: number;
}

export const DEFAULT_MAX_RECORDING_BYTES = 100 * 1024 * 1024;

export function recordingSettings(env: Record<string, string | undefined> = process.env): RecordingSettings {
  const positive = (name: string, fallback: number): number => {
    const value = Number(env[name]);
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    kmsKeyId: env.RECORDINGS_KMS_KEY_ID?.trim() || undefined,
    maxBytes: positive('RECORDINGS_MAX_BYTES', DEFAULT_MAX_RECORDING_BYTES),
    s3Endpoint: env.S3_ENDPOINT?.trim() || undefined,
    downloadTimeoutMs: positive('RECORDINGS_DOWNLOAD_TIMEOUT_MS', 90_000),
  };
}
