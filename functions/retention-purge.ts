import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { type PurgeResult, purgeExpired, recordingStore } from '../lib/recordings/index.js';

/**
 * Daily: recordings, transcripts, webhook logs and published events older than RECORDING_RETENTION_DAYS are
 * removed (events the relay has not published yet stay, whatever their age).
 */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<PurgeResult> => {
  const config = await getConfig();
  return purgeExpired(await getDb(), recordingStore(config), {
    retentionDays: config.recordingRetentionDays,
  });
};
