import type { Context, ScheduledEvent } from 'aws-lambda';
import { getConfig } from '../lib/config.js';
import { getDb } from '../lib/db/index.js';
import { type DeliveryPollResult, pollVoipmsDelivery } from '../lib/voipms/delivery.js';
import { voipmsClientFromConfig } from '../lib/voipms/outbound.js';

/** Every five minutes: delivery outcomes (getSMS carrier_status) of the VoIP.ms texts sent lately, while any is not final. */
export const handler = async (_event?: ScheduledEvent, _context?: Context): Promise<DeliveryPollResult> => {
  const config = await getConfig();
  return pollVoipmsDelivery({ db: await getDb(), client: () => voipmsClientFromConfig(config) });
};
