/**
 * Phone numbers as VoIP.ms writes them (10-digit NANP, sometimes with a leading 1 or formatting)
 * to E.164. Anything that is not recognisably NANP is kept as given (short codes, SIP accounts,
 * international numbers already carrying their own prefix).
 */
export function toE164(value: string): string {
  const trimmed = value.trim();
  const digits = trimmed.replace(/[\s().-]/g, '');
  if (/^\d{10}$/.test(digits)) return `+1${digits}`;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  if (/^\+\d{8,15}$/.test(digits)) return digits;
  if (/^011\d{8,15}$/.test(digits)) return `+${digits.slice(3)}`;
  return trimmed;
}

/** The 10-digit form VoIP.ms's API expects for NANP numbers (`+15551234567` → `5551234567`). */
export function toVoipmsNumber(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length === 11 && digits.startsWith('1')) return digits.slice(1);
  return digits;
}

/** Last four digits only, for logs (PHI: never a whole number). */
export function maskNumber(value: string): string {
  const digits = value.replace(/\D/g, '');
  return digits.length <= 4 ? '****' : `***${digits.slice(-4)}`;
}
