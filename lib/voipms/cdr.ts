import * as z from 'zod/mini';
import { asArray } from './as-array.js';
import { toE164 } from './phone.js';
import { wallClockToInstant } from './time.js';

export type CallDirection = 'inbound' | 'outbound';
export type CallStatus = 'completed' | 'no-answer' | 'busy' | 'failed';

/** A VoIP.ms call record in our call shape (the `calls` table's columns). */
export interface NormalizedCall {
  providerCallId: string;
  direction: CallDirection;
  fromNumber: string;
  toNumber: string;
  callerName: string | null;
  status: CallStatus;
  /** VoIP.ms's disposition as sent, for the record. */
  disposition: string;
  durationSeconds: number;
  rate: number | null;
  cost: number | null;
  startedAt: Date;
  endedAt: Date;
  account: string | null;
}

const field = z.pipe(
  z.union([z.string(), z.number()], {
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string or a number'),
  }),
  z.transform((value) => String(value).trim()),
);
const optionalField = z.optional(field);

/** A `getCDR` record as pushed to us or polled (numbers may arrive as numbers or strings). */
export const voipmsCdrRecordSchema = z.looseObject({
  uniqueid: z.pipe(field, z.string().check(z.minLength(1, { error: 'must not be empty' }))),
  date: field,
  callerid: optionalField,
  destination: optionalField,
  description: optionalField,
  account: optionalField,
  disposition: optionalField,
  duration: optionalField,
  seconds: optionalField,
  rate: optionalField,
  total: optionalField,
});

export type VoipmsCdrInput = z.input<typeof voipmsCdrRecordSchema>;

/** One `getCDR` record as VoIP.ms returns it (every value a string). */
export interface VoipmsCdrRecord {
  date: string;
  callerid: string;
  destination: string;
  description: string;
  account: string;
  disposition: string;
  duration: string;
  seconds: string;
  rate: string;
  total: string;
  uniqueid: string;
  destination_type?: string;
  call_logs?: string;
}

/** `{"cdr": [...]}` or `{"cdr": {...}}` (VoIP.ms's one-row quirk), as the CDR webhook receives it. */
export const voipmsCdrPayloadSchema = z.object({
  cdr: z.pipe(
    z.union([z.array(voipmsCdrRecordSchema), voipmsCdrRecordSchema]),
    z.transform((value) => asArray(value)),
  ),
});

export class VoipmsCdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VoipmsCdrError';
  }
}

/** `"John Doe" <5551112222>`, `John Doe <5551112222>`, `<5551112222>` or `5551112222`. */
export function parseCallerId(callerid: string): { name: string | null; number: string } {
  const text = callerid.trim();
  const match = /^(.*?)\s*<([^>]*)>\s*$/.exec(text);
  if (!match) return { name: null, number: text };
  const number = (match[2] ?? '').trim();
  const name = (match[1] ?? '')
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
  // VoIP.ms repeats the number as the name when there is no CNAM.
  const sameAsNumber = name.replace(/\D/g, '') === number.replace(/\D/g, '') && /^[\d\s()+.-]*$/.test(name);
  return { name: name && !sameAsNumber ? name : null, number };
}

const DISPOSITIONS: Readonly<Record<string, CallStatus>> = {
  ANSWERED: 'completed',
  NOANSWER: 'no-answer',
  BUSY: 'busy',
  FAILED: 'failed',
  CONGESTION: 'failed',
};

export function dispositionToStatus(disposition: string): CallStatus {
  return DISPOSITIONS[disposition.toUpperCase().replace(/[^A-Z]/g, '')] ?? 'failed';
}

function toNumberOrNull(value: string | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** `00:01:05` or `01:05` → seconds. */
export function clockToSeconds(value: string | undefined): number {
  if (!value) return 0;
  const parts = value.split(':').map(Number);
  if (parts.some((n) => !Number.isFinite(n))) return 0;
  return parts.reduce((total, n) => total * 60 + n, 0);
}

/**
 * One `getCDR` record → our call shape. `timeZone` is the IANA zone VoIP.ms wrote `date` in: the account's
 * zone for pushed records, or `fixedOffsetZone(n)` when polled with `timezone=n`.
 */
export function normalizeCdrRecord(
  input: VoipmsCdrInput | VoipmsCdrRecord,
  options: { timeZone: string },
): NormalizedCall {
  const parsed = voipmsCdrRecordSchema.safeParse(input);
  if (!parsed.success) throw new VoipmsCdrError(describeIssues(parsed.error));
  const record = parsed.data;
  const startedAt = wallClockToInstant(record.date, options.timeZone);
  if (!startedAt) throw new VoipmsCdrError(`date must look like YYYY-MM-DD HH:MM:SS, got "${record.date}"`);
  const seconds = toNumberOrNull(record.seconds);
  const durationSeconds =
    seconds !== null && seconds >= 0 ? Math.round(seconds) : clockToSeconds(record.duration);
  const caller = parseCallerId(record.callerid ?? '');
  const disposition = record.disposition ?? '';
  return {
    providerCallId: record.uniqueid,
    direction: (record.description ?? '').toLowerCase().startsWith('inbound') ? 'inbound' : 'outbound',
    fromNumber: toE164(caller.number),
    toNumber: toE164(record.destination ?? ''),
    callerName: caller.name,
    status: dispositionToStatus(disposition),
    disposition,
    durationSeconds,
    rate: toNumberOrNull(record.rate),
    cost: toNumberOrNull(record.total),
    startedAt,
    endedAt: new Date(startedAt.getTime() + durationSeconds * 1000),
    account: record.account || null,
  };
}

function describeIssues(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join('.') || 'record'} ${issue.message}`)
    .join('; ');
}
