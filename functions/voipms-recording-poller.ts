import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { voipmsClientFromConfig } from '../lib/voipms/outbound.js';
import { type PollResult, pollVoipmsRecordings } from '../lib/voipms/pollers.js';

/** Every ten minutes: getCallRecordings since the cursor; new recordings are queued for the recording worker. */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<PollResult> => {
  const config = await getConfig();
  return pollVoipmsRecordings({
    db: await getDb(),
    client: voipmsClientFromConfig(config),
    ...(config.voipms.did ? { did: config.voipms.did } : {}),
    ...(config.voipms.account ? { account: config.voipms.account } : {}),
  });
};
