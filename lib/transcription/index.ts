export { resetTranscribeClient, transcribeClient } from './client.js';
export { parseTranscriptionJobName, transcriptionJobName } from './job-name.js';
export {
  chooseTranscriptionLanguage,
  DEFAULT_TRANSCRIPTION_LANGUAGE,
  type LanguageChoice,
  TRANSCRIPTION_LANGUAGES,
  type TranscriptionLanguage,
} from './language.js';
export type { TranscriptionStatus } from './repository.js';
export { parseS3Uri } from './s3-uri.js';
export {
  type ArchivedRecording,
  startTranscription,
  type TranscriptionStart,
  TranscriptionStartError,
} from './start.js';
export {
  noSweep,
  SWEEP_DEFAULTS,
  type SweepOptions,
  type SweepResult,
  sweepStaleTranscriptions,
} from './sweeper.js';
export {
  type TranscribeJobStateChange,
  transcriptText,
  type WriterResult,
  writeTranscriptionOutcome,
} from './writer.js';
