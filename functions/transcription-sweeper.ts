// PLACEHOLDER so the template packages: the real sweeper is written on another branch and replaces this file on
// merge. It only logs; it touches no transcription job.
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../lib/observability.js';

export const handler = async (_event?: ScheduledEvent): Promise<void> => {
  logger.info('transcription sweeper placeholder: nothing swept');
};
