import { getDb } from '../lib/db/index.js';
import { relayFollowUps } from '../lib/followups/index.js';

/**
 * Every minute (EventBridge schedule): hands on every follow-up still waiting in the rows that record it
 * (texts to send, recordings to archive) whose first hand-on failed or never happened. Idempotent.
 */
export const handler = async () => relayFollowUps(await getDb());
