import { json, voipmsCaller, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { parseRecordingReady, storeRecordingReady } from '../lib/voipms/recordings.js';

/** A recording reference pushed to us: stored once and queued for the recording worker (which downloads it). */
export const handler = webhookRoute({
  provider: 'voipms',
  name: 'voipms/recording/ready',
  methods: ['POST'],
  verify: voipmsCaller,
  successStatus: 202,
  parse: parseRecordingReady,
  handle: async (ref, { pendingLog }) => {
    const outcome = await performOrDefer(storeRecordingReady, ref, pendingLog);
    return json({ accepted: true, recordingId: outcome.stored ? outcome.result : null }, 202);
  },
});
