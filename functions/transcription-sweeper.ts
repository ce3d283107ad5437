import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { recordingStore } from '../lib/recordings/index.js';
import { noSweep, type SweepResult, sweepStaleTranscriptions } from '../lib/transcription/index.js';

/**
 * Every 15 minutes: transcription jobs still `in_progress` after 30 minutes, and starts whose claim ran out, are
 * checked with Transcribe and finished jobs written as the EventBridge event would have (the event may have been
 * lost).
 */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<SweepResult> => {
  const config = await getConfig();
  if (!config.enableTranscription) {
    return noSweep();
  }
  return sweepStaleTranscriptions(await getDb(), config, recordingStore(config));
};
