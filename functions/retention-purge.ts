import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { type PurgeResult, purgeExpired, recordingStore } from '../lib/recordings/index.js';

/** Daily: recordings, transcripts and webhook logs older than RECORDING_RETENTION_DAYS are removed. */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<PurgeResult> => {
  const config = await getConfig();
  return purgeExpired(await getDb(), recordingStore(config), {
    retentionDays: config.recordingRetentionDays,
  });
};
