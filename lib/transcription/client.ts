import { TranscribeClient } from '@aws-sdk/client-transcribe';

let client: TranscribeClient | undefined;

/** The container's Transcribe client, made on first use (Transcribe has no local emulator; tests mock it). */
export function transcribeClient(): TranscribeClient {
  client ??= new TranscribeClient({});
  return client;
}

export function resetTranscribeClient(): void {
  client?.destroy();
  client = undefined;
}
