import { plainText, voipmsCaller, webhookRoute } from '../lib/http/index.js';
import { receiveInboundText } from '../lib/messages/receive.js';
import { isTextableNumber } from '../lib/phone.js';
import { parseVoipmsSms } from '../lib/voipms/inbound.js';

/**
 * VoIP.ms URL Callback for an inbound SMS/MMS (GET with the parameters in the query, or POST). The body is
 * exactly `ok` so VoIP.ms stops retrying; the auto-reply is stored and goes out through the outbound-sms queue.
 */
export const handler = webhookRoute({
  provider: 'voipms',
  name: 'voipms/sms/incoming',
  methods: ['GET', 'POST'],
  verify: voipmsCaller,
  parse: (request) => request,
  handle: async (request, { config, pendingLog }) => {
    const sms = parseVoipmsSms(request, config);
    await receiveInboundText(
      {
        provider: 'voipms',
        providerMessageId: sms.providerMessageId,
        fromNumber: sms.fromNumber,
        // Our DID when the callback's `to` is missing or not a number.
        toNumber: isTextableNumber(sms.toNumber) ? sms.toNumber : (sms.fallbackDid ?? sms.toNumber),
        body: sms.body,
        numMedia: sms.mediaUrls.length,
        mediaUrls: sms.mediaUrls,
        sentAt: new Date(sms.receivedAt),
      },
      config,
      pendingLog,
    );
    return plainText('ok');
  },
});
