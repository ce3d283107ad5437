import { json, voipmsCaller, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { parseVoipmsCdr, storeVoipmsCdr } from '../lib/voipms/calls.js';

/** Call records pushed in getCDR's shape (a PBX or script); upserted by uniqueid, status never backwards. */
export const handler = webhookRoute({
  provider: 'voipms',
  name: 'voipms/call/cdr',
  methods: ['POST'],
  verify: voipmsCaller,
  parse: parseVoipmsCdr,
  handle: async (records, { config, pendingLog }) => {
    await performOrDefer(
      storeVoipmsCdr,
      {
        records,
        ...(config.voipms.did ? { did: config.voipms.did } : {}),
      },
      pendingLog,
    );
    return json({ accepted: records.length }, 200);
  },
});
