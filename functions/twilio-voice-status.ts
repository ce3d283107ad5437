import { recordCallStatus } from '../lib/calls/index.js';
import { noContent, twilioSignature, webhookRoute } from '../lib/http/index.js';
import { performOrDefer } from '../lib/ingest/action.js';
import { toE164 } from '../lib/phone.js';
import { parseTwilio } from '../lib/twilio/params.js';
import { parseTwilioTimestamp, voiceStatusSchema } from '../lib/twilio/voice.js';

const TERMINAL = new Set(['completed', 'busy', 'failed', 'no-answer', 'canceled']);

/** Call progress: the row only moves forward; a missed inbound call queues one missed-call text. */
export const handler = webhookRoute({
  provider: 'twilio',
  name: 'twilio/voice/status',
  methods: ['POST'],
  verify: twilioSignature,
  successStatus: 204,
  parse: (request) => parseTwilio(voiceStatusSchema, request.fields),
  handle: async (params, { pendingLog }) => {
    const at = parseTwilioTimestamp(params.Timestamp);
    const duration = params.CallDuration === undefined ? null : Number(params.CallDuration);
    const terminal = TERMINAL.has(params.CallStatus);
    // Inbound calls usually report only their end: the start is the end minus the duration.
    const startedAt =
      at && !terminal && params.CallStatus !== 'queued'
        ? at
        : at && terminal && duration !== null
          ? new Date(at.getTime() - duration * 1000)
          : undefined;
    await performOrDefer(
      recordCallStatus,
      {
        provider: 'twilio',
        providerCallId: params.CallSid,
        direction: params.Direction ?? 'inbound',
        fromNumber: params.From ? toE164(params.From) : null,
        toNumber: params.To ? toE164(params.To) : null,
        callerName: params.CallerName || null,
        status: params.CallStatus,
        sequence: params.SequenceNumber === undefined ? null : Number(params.SequenceNumber),
        durationSeconds: duration,
        cost: params.Price === undefined ? null : Math.abs(Number(params.Price)),
        currency: params.PriceUnit ?? null,
        startedAt: startedAt?.toISOString() ?? null,
        endedAt: terminal && at ? at.toISOString() : null,
        answeredBy: params.AnsweredBy ?? null,
        receivedAt: new Date().toISOString(),
      },
      pendingLog,
    );
    return noContent();
  },
});
