import { TwimlResponse } from './twiml-writer.js';

/** Where Twilio should call us back during a call; absolute URLs built from WEBHOOK_BASE_URL. */
export interface VoiceUrls {
  /** The incoming-call route itself: `<Dial>` and `<Record>` actions come back here with a `step`. */
  incoming: string;
  recordingStatus: string;
}

export const INCOMING_PATH = '/webhooks/twilio/voice/incoming';
export const RECORDING_STATUS_PATH = '/webhooks/twilio/recording/status';

export const voiceUrls = (baseUrl: string): VoiceUrls => ({
  incoming: `${baseUrl}${INCOMING_PATH}`,
  recordingStatus: `${baseUrl}${RECORDING_STATUS_PATH}`,
});

/**
 * Used when even the configuration is unavailable: relative URLs, which Twilio resolves against the URL it
 * just requested (this route), so the caller can still leave a message.
 */
export const RELATIVE_VOICE_URLS: VoiceUrls = {
  incoming: 'incoming',
  recordingStatus: '../recording/status',
};

export interface VoicePractice {
  practiceName: string;
  officeLine: string | null;
  emergencyLine: string | null;
}

const VOICE = { voice: 'Polly.Joanna' as const, language: 'en-US' as const };
const DIAL_TIMEOUT_SECONDS = 20;
const VOICEMAIL_MAX_SECONDS = 180;

/** "+15551234567" → "5 5 5, 1 2 3, 4 5 6 7": text-to-speech reads a bare number as one large amount. */
export function spokenNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  const national = digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  if (national.length !== 10) return national.split('').join(' ');
  return [national.slice(0, 3), national.slice(3, 6), national.slice(6)]
    .map((group) => group.split('').join(' '))
    .join(', ');
}

const step = (urls: VoiceUrls, name: string) => `${urls.incoming}?step=${name}`;

function appendVoicemail(response: TwimlResponse, urls: VoiceUrls, prompt: string): void {
  response.say(VOICE, prompt);
  response.record({
    action: step(urls, 'voicemail-done'),
    method: 'POST',
    maxLength: VOICEMAIL_MAX_SECONDS,
    playBeep: true,
    timeout: 5,
    recordingStatusCallback: urls.recordingStatus,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvent: ['completed', 'absent'],
  });
}

const VOICEMAIL_PROMPT =
  'Please leave your name, number and a short message after the tone, and we will call you back.';

/** In office hours: greeting with the recording disclosure, then the office line, recorded from answer. */
export function officeHoursTwiml(practice: VoicePractice, urls: VoiceUrls): string {
  const response = new TwimlResponse();
  if (!practice.officeLine) return afterHoursTwiml(practice, urls, false);
  response.say(
    VOICE,
    `Thank you for calling ${practice.practiceName}. This call may be recorded for quality and training purposes. ` +
      'Please hold while we connect you.',
  );
  const dial = response.dial({
    action: step(urls, 'dial-result'),
    method: 'POST',
    timeout: DIAL_TIMEOUT_SECONDS,
    record: 'record-from-answer-dual',
    recordingStatusCallback: urls.recordingStatus,
    recordingStatusCallbackMethod: 'POST',
    recordingStatusCallbackEvent: ['completed', 'absent'],
  });
  dial.number(practice.officeLine);
  return response.toString();
}

/** Out of hours (or no office line): the emergency line, then voicemail. */
export function afterHoursTwiml(practice: VoicePractice, urls: VoiceUrls, closed = true): string {
  const response = new TwimlResponse();
  const emergency = practice.emergencyLine
    ? ` If this is an emergency, please call ${spokenNumber(practice.emergencyLine)}, or dial 9 1 1.`
    : ' If this is an emergency, please dial 9 1 1.';
  response.say(
    VOICE,
    `Thank you for calling ${practice.practiceName}. ` +
      (closed ? 'Our office is closed right now.' : 'No one can take your call right now.') +
      emergency,
  );
  appendVoicemail(response, urls, VOICEMAIL_PROMPT);
  return response.toString();
}

/** The office line did not answer: voicemail. */
export function noAnswerTwiml(practice: VoicePractice, urls: VoiceUrls): string {
  const response = new TwimlResponse();
  const emergency = practice.emergencyLine
    ? ` If this is an emergency, please call ${spokenNumber(practice.emergencyLine)}.`
    : '';
  appendVoicemail(
    response,
    urls,
    `Sorry, everyone is busy helping other patients.${emergency} ${VOICEMAIL_PROMPT}`,
  );
  return response.toString();
}

/** After the voicemail (or a connected call that ended): a polite end. */
export function goodbyeTwiml(said = 'Thank you for calling. Goodbye.'): string {
  const response = new TwimlResponse();
  response.say(VOICE, said);
  response.hangup();
  return response.toString();
}

/** The connected call with the office ended: nothing more to say. */
export function hangupTwiml(): string {
  const response = new TwimlResponse();
  response.hangup();
  return response.toString();
}

/** Something failed on our side: still help the caller (apology, emergency advice, voicemail). */
export function fallbackTwiml(urls: VoiceUrls = RELATIVE_VOICE_URLS): string {
  const response = new TwimlResponse();
  response.say(
    VOICE,
    'Thank you for calling. We cannot connect your call right now. If this is an emergency, please dial 9 1 1.',
  );
  appendVoicemail(response, urls, VOICEMAIL_PROMPT);
  return response.toString();
}

export const SMS_STATUS_PATH = '/webhooks/twilio/sms/status';

/**
 * Where Twilio reports the delivery of the auto-reply to one inbound text: the status route, with the inbound
 * MessageSid as `reply`, so the callback updates the stored reply row (`reply:<inbound sid>`) rather than
 * making a second row under the reply's own SID.
 */
export const replyStatusCallback = (baseUrl: string, inboundMessageSid: string) =>
  `${baseUrl}${SMS_STATUS_PATH}?reply=${encodeURIComponent(inboundMessageSid)}`;

/** `<Message>` with attributes: the writer's message() takes none. */
class MessagingResponse extends TwimlResponse {
  messageWith(attributes: Record<string, string>, text: string): this {
    this.add('Message', attributes, text);
    return this;
  }
}

/**
 * The SMS answer: one `<Message>` with the reply (escaped by the builder), or an empty `<Response/>`. With a
 * status callback, Twilio reports the reply's delivery there (queued, sent, delivered or undelivered).
 */
export function messagingTwiml(reply: string | null, statusCallback?: string): string {
  const response = new MessagingResponse();
  const text = reply === null ? '' : xmlSafe(reply);
  if (text && statusCallback) response.messageWith({ statusCallback, method: 'POST' }, text);
  else if (text) response.message(text);
  return response.toString();
}

/** Drops the characters XML 1.0 cannot carry at all (C0 controls but tab/newline/return, lone surrogates, U+FFFE/F). */
export function xmlSafe(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (allowed) out += char;
  }
  return out;
}
