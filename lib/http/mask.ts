/**
 * PHI never reaches logs whole: message text becomes its length, phone numbers keep their last two digits.
 * Applied to every payload written to webhook_logs and to every log line.
 */
const TEXT_KEYS = new Set([
  'body',
  'message',
  'transcriptiontext',
  'text',
  'callername',
  'callerid',
  'description',
]);
const NUMBER_KEYS = new Set([
  'from',
  'to',
  'caller',
  'called',
  'forwardedfrom',
  'destination',
  'did',
  'dst',
  'contact',
  'phone_number',
]);
const SECRET_KEYS = new Set(['token', 'api_password', 'password', 'authtoken', 'auth_token']);
const PHONE_PATTERN = /\+?\d[\d\s().-]{6,}\d/g;

export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 5) return value;
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

function maskValue(key: string, value: string): string {
  const name = key.toLowerCase();
  if (SECRET_KEYS.has(name)) return '[secret]';
  if (TEXT_KEYS.has(name)) return value === '' ? '' : `[${[...value].length} chars]`;
  if (NUMBER_KEYS.has(name) || /^(from|to|caller|called)/.test(name))
    return value.replace(PHONE_PATTERN, maskPhone);
  return value.replace(PHONE_PATTERN, (match) =>
    /^\d{10,15}$|^\+\d{10,15}$/.test(match) ? maskPhone(match) : match,
  );
}

/** A masked deep copy of any JSON-like value. */
export function maskPayload(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return maskValue(key, value);
  if (Array.isArray(value)) return value.map((item) => maskPayload(item, key));
  if (value && typeof value === 'object') {
    const masked: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) masked[k] = maskPayload(v, k);
    return masked;
  }
  return value;
}
