import * as z from 'zod/mini';
import { toE164 } from './phone.js';
import { wallClockToInstant } from './time.js';

/** An inbound VoIP.ms SMS/MMS in our message shape. */
export interface NormalizedVoipmsSms {
  providerMessageId: string;
  fromNumber: string;
  toNumber: string;
  body: string;
  receivedAt: Date;
  mediaUrls: string[];
}

/** Decoded query or form values may repeat a key (string[]) or, from JSON, be numbers. */
const firstValue = (value: unknown): unknown =>
  Array.isArray(value) ? value[0] : typeof value === 'number' ? String(value) : value;

const scalar = z.optional(z.pipe(z.transform(firstValue), z.optional(z.string())));

const required = (name: string) =>
  z.pipe(
    z.transform(firstValue),
    z
      .string({ error: `${name} is required` })
      .check(z.trim(), z.minLength(1, { error: `${name} is required` })),
  );

/** VoIP.ms URL-callback parameters (`{TO} {FROM} {MESSAGE} {ID} {TIMESTAMP} {MEDIA}`). */
export const voipmsSmsCallbackSchema = z.looseObject({
  id: required('id'),
  from: required('from'),
  to: required('to'),
  message: scalar,
  date: scalar,
  media: scalar,
});

export type VoipmsSmsCallbackInput = Record<string, unknown>;

export class VoipmsSmsPayloadError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'VoipmsSmsPayloadError';
  }
}

export interface NormalizeSmsOptions {
  /** Zone VoIP.ms writes `{TIMESTAMP}` in (the account's); default UTC. */
  timeZone?: string;
  /** When the callback carries no usable date. */
  now?: () => Date;
}

/**
 * Callback parameters → our message shape, or a VoipmsSmsPayloadError naming each missing field
 * (`from is required; id is required`) for the 400 answer.
 */
export function normalizeVoipmsSms(
  input: VoipmsSmsCallbackInput,
  options: NormalizeSmsOptions = {},
): NormalizedVoipmsSms {
  const parsed = voipmsSmsCallbackSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new VoipmsSmsPayloadError(
      parsed.error.issues.map((issue) =>
        issue.message.endsWith('is required') ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
      ),
    );
  }
  const data = parsed.data;
  return {
    providerMessageId: data.id,
    fromNumber: toE164(data.from),
    toNumber: toE164(data.to),
    body: data.message ?? '',
    receivedAt: parseTimestamp(data.date, options.timeZone ?? 'UTC') ?? (options.now ?? (() => new Date()))(),
    mediaUrls: parseMedia(data.media),
  };
}

/** `{TIMESTAMP}` as wall-clock text in the account zone, ISO with an offset, or epoch seconds. */
function parseTimestamp(value: string | undefined, timeZone: string): Date | undefined {
  const text = value?.trim();
  if (!text || text.startsWith('{')) return undefined;
  if (/^\d{9,10}$/.test(text)) return new Date(Number(text) * 1000);
  const wall = wallClockToInstant(text, timeZone);
  if (wall) return wall;
  if (/[zZ]|[+-]\d{2}:?\d{2}$/.test(text)) {
    const parsed = new Date(text);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  return undefined;
}

/** `{MEDIA}`: one URL, several separated by commas/spaces, or a JSON array; only http(s) URLs kept. */
export function parseMedia(value: string | undefined): string[] {
  const text = value?.trim();
  if (!text) return [];
  let items: unknown[] = [];
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) items = parsed;
    } catch {
      items = [];
    }
  }
  if (items.length === 0) items = text.split(/[\s,]+/);
  return items.filter((item): item is string => typeof item === 'string' && /^https?:\/\/\S+$/i.test(item));
}
