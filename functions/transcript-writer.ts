import type { Context } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { recordingStore } from '../lib/recordings/index.js';
import {
  type TranscribeJobStateChange,
  type WriterResult,
  writeTranscriptionOutcome,
} from '../lib/transcription/index.js';

/** EventBridge "Transcribe Job State Change" (COMPLETED, FAILED) → the `transcriptions` row. A throw is retried. */
export const handler = async (event: TranscribeJobStateChange, _context?: Context): Promise<WriterResult> => {
  const config = await getConfig();
  return writeTranscriptionOutcome(await getDb(), config, recordingStore(config), event);
};
