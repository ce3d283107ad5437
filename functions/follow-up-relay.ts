// PLACEHOLDER so the template packages: the real relay is written on another branch and replaces this file on
// merge. It only logs; it sends nothing.
import type { ScheduledEvent } from 'aws-lambda';
import { logger } from '../lib/observability.js';

export const handler = async (_event?: ScheduledEvent): Promise<void> => {
  logger.info('follow-up relay placeholder: nothing to relay');
};
