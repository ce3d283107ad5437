import type { Queryable } from '../db/index.js';

/** The languages Transcribe redacts PII in for batch jobs (its documentation: en-US and es-US). */
export const TRANSCRIPTION_LANGUAGES = ['en-US', 'es-US'] as const;
export type TranscriptionLanguage = (typeof TRANSCRIPTION_LANGUAGES)[number];
export const DEFAULT_TRANSCRIPTION_LANGUAGE: TranscriptionLanguage = 'en-US';

/** How many of the caller's latest texts vote, and how far back they may be. */
const RECENT_TEXTS = 5;
const RECENT_DAYS = 180;

/** Language of a text as the classifier stores it (`en`, `es`) → Transcribe's code. */
const FROM_TEXT_LANGUAGE: Readonly<Record<string, TranscriptionLanguage>> = { en: 'en-US', es: 'es-US' };

export interface LanguageChoice {
  language: TranscriptionLanguage;
  /** Where it came from, for the logs and the docs' promise. */
  source: 'practice' | 'caller_texts' | 'default';
}

interface ChoiceRow {
  practice_language: string | null;
  text_languages: string[] | null;
}

/**
 * The one language the recording's job is started with. Transcribe's batch PII redaction works only with a
 * given LanguageCode, so identification is not an option. In order: the practice number's
 * `voip_settings.transcription_language` (or the default row's), then the majority of the caller's latest
 * texts (`sms_messages.language`, newest first, a tie goes to the newest), then en-US.
 */
export async function chooseTranscriptionLanguage(
  db: Queryable,
  recordingId: number,
): Promise<LanguageChoice> {
  const { rows } = await db.query<ChoiceRow>(
    `WITH call AS (
       SELECT r.provider,
         CASE WHEN c.direction = 'outbound' THEN c.to_number ELSE c.from_number END AS patient,
         CASE WHEN c.direction = 'outbound' THEN c.from_number ELSE c.to_number END AS practice
       FROM recordings r
       LEFT JOIN calls c ON c.provider = r.provider AND c.provider_call_id = r.provider_call_id
       WHERE r.id = $1
     )
     SELECT
       (SELECT s.transcription_language FROM voip_settings s, call
        WHERE s.transcription_language IS NOT NULL
          AND ((s.provider = call.provider AND s.phone_number = call.practice) OR s.phone_number = '*')
        ORDER BY s.phone_number = '*' LIMIT 1) AS practice_language,
       (SELECT array_agg(m.language ORDER BY m.created_at DESC) FROM (
          SELECT language, created_at FROM sms_messages, call
          WHERE direction = 'inbound' AND from_number = call.patient AND language IS NOT NULL
            AND created_at > now() - make_interval(days => $2)
          ORDER BY created_at DESC LIMIT $3) m) AS text_languages`,
    [recordingId, RECENT_DAYS, RECENT_TEXTS],
  );
  const row = rows[0];
  const practice = row?.practice_language;
  if (isTranscriptionLanguage(practice)) return { language: practice, source: 'practice' };
  const fromTexts = majority((row?.text_languages ?? []).map((code) => FROM_TEXT_LANGUAGE[code]));
  if (fromTexts) return { language: fromTexts, source: 'caller_texts' };
  return { language: DEFAULT_TRANSCRIPTION_LANGUAGE, source: 'default' };
}

export function isTranscriptionLanguage(value: unknown): value is TranscriptionLanguage {
  return typeof value === 'string' && (TRANSCRIPTION_LANGUAGES as readonly string[]).includes(value);
}

/** The most frequent language, newest first in `votes`, so a tie goes to the newest text. */
function majority(votes: (TranscriptionLanguage | undefined)[]): TranscriptionLanguage | undefined {
  const counts = new Map<TranscriptionLanguage, number>();
  for (const vote of votes) if (vote) counts.set(vote, (counts.get(vote) ?? 0) + 1);
  let best: TranscriptionLanguage | undefined;
  for (const vote of votes) {
    if (!vote) continue;
    if (best === undefined || (counts.get(vote) ?? 0) > (counts.get(best) ?? 0)) best = vote;
  }
  return best;
}
