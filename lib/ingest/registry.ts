import {
  recordCallStatus,
  recordDialResult,
  recordIncomingCall,
  recordRecordingStatus,
} from '../calls/index.js';
import { insertWebhookLog } from '../http/webhook-log.js';
import { recordInboundSms } from '../messages/inbound.js';
import { recordMessageStatus } from '../messages/status.js';
import { storeVoipmsCdr } from '../voipms/calls.js';
import { storeRecordingReady } from '../voipms/recordings.js';
import type { Action } from './action.js';

/**
 * Every action a webhook may defer while Postgres is down. Only the ingest worker imports this list,
 * so webhook bundles carry just their own actions.
 */
const actions: Action<never, unknown>[] = [
  insertWebhookLog,
  recordMessageStatus,
  recordInboundSms,
  recordIncomingCall,
  recordDialResult,
  recordCallStatus,
  recordRecordingStatus,
  storeVoipmsCdr,
  storeRecordingReady,
] as Action<never, unknown>[];

export const ingestActions = new Map(actions.map((action) => [action.name, action]));
