import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { voipmsClientFromConfig } from '../lib/voipms/outbound.js';
import { type PollResult, pollVoipmsCdr } from '../lib/voipms/pollers.js';

/** Every few minutes: getCDR since the last synced time (minus an overlap), upserted into calls. */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<PollResult> => {
  const config = await getConfig();
  return pollVoipmsCdr({
    db: await getDb(),
    client: voipmsClientFromConfig(config),
    ...(config.voipms.did ? { did: config.voipms.did } : {}),
  });
};
