/**
 * Phone numbers as the providers send them → E.164 where they are phone numbers.
 * VoIP.ms sends 10-digit NANP numbers; Twilio sends E.164, but also `Anonymous`, short codes and
 * alphanumeric sender ids, which are kept as given.
 */
export function toE164(value: string): string {
  const trimmed = value.trim();
  const digits = trimmed.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return digits;
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  if (/^011[1-9]\d{6,14}$/.test(digits)) return `+${digits.slice(3)}`;
  return trimmed;
}

/** A number that can receive a text from us: E.164, not a short code or an alphanumeric sender. */
export function isTextableNumber(value: string): boolean {
  return /^\+[1-9]\d{9,14}$/.test(value);
}
