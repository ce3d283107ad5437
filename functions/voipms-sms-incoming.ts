import { plainText, voipmsCaller, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { parseVoipmsSms, storeVoipmsInbound } from '../lib/voipms/inbound.js';

/**
 * VoIP.ms URL Callback for an inbound SMS/MMS (GET with the parameters in the query, or POST). The body is
 * exactly `ok` so VoIP.ms stops retrying; the auto-reply goes out through the outbound-sms queue.
 */
export const handler = webhookRoute({
  provider: 'voipms',
  name: 'voipms/sms/incoming',
  methods: ['GET', 'POST'],
  verify: voipmsCaller,
  parse: (request) => request,
  handle: async (request, { config }) => {
    await performOrDefer(storeVoipmsInbound, parseVoipmsSms(request, config));
    return plainText('ok');
  },
});
