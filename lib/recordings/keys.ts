export type RecordingProvider = 'twilio' | 'voipms';

const safe = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, '_');
const month = (at: Date) => `${at.getUTCFullYear()}/${String(at.getUTCMonth() + 1).padStart(2, '0')}`;

/** `recordings/<provider>/<yyyy>/<mm>/<providerRecordingId>.mp3`, dated by when the recording row was made. */
export function recordingKey(provider: RecordingProvider, providerRecordingId: string, at: Date): string {
  return `recordings/${provider}/${month(at)}/${safe(providerRecordingId)}.mp3`;
}

/** `transcripts/<provider>/<yyyy>/<mm>/<providerRecordingId>.json`, beside the recording's own month. */
export function transcriptKey(provider: RecordingProvider, providerRecordingId: string, at: Date): string {
  return `transcripts/${provider}/${month(at)}/${safe(providerRecordingId)}.json`;
}
