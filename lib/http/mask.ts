/**
 * PHI never reaches logs whole. Masking is by allow-list: a field stays in clear only if its name is known to
 * carry no patient data (ids, statuses, counts, dates) and its value has the shape that name promises.
 * Everything else is masked: numbers keep their last two digits, other text becomes its length, secrets
 * become `[secret]`, JSON numbers `[number]`. So location fields (FromCity, CallerZip…), media URLs, caller
 * names and any field a provider adds later are masked without being named here.
 */
const SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;
const WORD = /^[A-Za-z][A-Za-z_-]{0,39}$/;
const SMALL_NUMBER = /^-?\d{1,6}(?:\.\d{1,6})?$/;
/** ISO / VoIP.ms (`2024-05-06 10:15:00`), Twilio's RFC 2822 (`Tue, 10 Mar 2026 14:02:24 +0000`), `00:01:02`. */
const DATE =
  /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$|^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$|^\d{1,3}:\d{2}:\d{2}$/;

/** Lower-cased field name → the shape its value must have to be kept in clear. */
const SAFE_FIELDS = new Map<string, RegExp>([
  ...[
    'accountsid',
    'messagesid',
    'smssid',
    'smsmessagesid',
    'messagingservicesid',
    'callsid',
    'parentcallsid',
    'dialcallsid',
    'recordingsid',
    'reply',
  ].map((key): [string, RegExp] => [key, SID]),
  ...[
    'messagestatus',
    'smsstatus',
    'callstatus',
    'dialcallstatus',
    'recordingstatus',
    'direction',
    'answeredby',
    'recordingsource',
    'recordingtrack',
    'stirverstat',
    'optouttype',
    'priceunit',
    'dialbridged',
    'callbacksource',
    'step',
    'disposition',
    'type',
  ].map((key): [string, RegExp] => [key, WORD]),
  ...[
    'nummedia',
    'numsegments',
    'callduration',
    'dialcallduration',
    'recordingduration',
    'recordingchannels',
    'sequencenumber',
    'errorcode',
    'price',
    'seconds',
    'rate',
    'total',
  ].map((key): [string, RegExp] => [key, SMALL_NUMBER]),
  ...['apiversion', 'timestamp', 'date', 'recordingstarttime', 'duration'].map((key): [string, RegExp] => [
    key,
    DATE,
  ]),
  // VoIP.ms ids: the SMS id (digits), the call's uniqueid (`1715000000.42`), a recording id, the account.
  // Bounded so that no 10-digit number passes as an id: longer ones are masked like phone numbers.
  ['id', /^\d{1,9}$/],
  ['uniqueid', /^\d{9,11}\.\d{1,9}$/],
  ['callrecording', /^[A-Za-z0-9+/=_-]{1,64}$/],
  ['account', /^\d{1,9}(?:_[A-Za-z0-9]{1,32})?$/],
]);
/** Media content types are safe; the URLs beside them are not. */
const SAFE_FIELD_PATTERNS: [RegExp, RegExp][] = [
  [/^mediacontenttype\d{1,2}$/, /^[a-z]+\/[a-z0-9.+-]{1,60}$/i],
];
const SECRET_KEYS = /token|password|secret|^auth/i;
const PHONE_LIKE = /^\+?[\d\s().-]{7,24}$/;

export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 5) return value;
  return `${value.startsWith('+') ? '+' : ''}${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
}

function safeShape(name: string): RegExp | undefined {
  return SAFE_FIELDS.get(name) ?? SAFE_FIELD_PATTERNS.find(([key]) => key.test(name))?.[1];
}

/** What a field name allows: a secret, a value of a known safe shape, or neither (null). */
type KeyClass = 'secret' | RegExp | null;
/** Field names seen so far and their class; bounded, since field names are caller-chosen. */
const keyClasses = new Map<string, KeyClass>();

function classOf(key: string): KeyClass {
  let found = keyClasses.get(key);
  if (found === undefined) {
    const name = key.toLowerCase();
    found = SECRET_KEYS.test(name) ? 'secret' : (safeShape(name) ?? null);
    if (keyClasses.size < 500) keyClasses.set(key, found);
  }
  return found;
}

/** Length in characters as a reader counts them (a pair of surrogates is one). */
function characters(value: string): number {
  let count = value.length;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const next = value.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      count--;
      i++;
    }
  }
  return count;
}

function maskValue(key: string, value: string): string {
  const kind = classOf(key);
  if (kind === 'secret') return '[secret]';
  if (value === '') return '';
  if (kind?.test(value)) return value;
  if (PHONE_LIKE.test(value) && /\d{5}/.test(value.replace(/\D/g, ''))) return maskPhone(value);
  return `[${characters(value)} chars]`;
}

/** Field names are caller-chosen too: a long run of digits in one is masked. */
const maskKey = (key: string): string => key.replace(/\d{5,}/g, (run) => '*'.repeat(run.length));

/** A masked deep copy of any JSON-like value. */
export function maskPayload(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return maskValue(key, value);
  if (typeof value === 'number' || typeof value === 'bigint')
    return SMALL_NUMBER.test(String(value)) && safeShape(key.toLowerCase()) ? value : '[number]';
  if (Array.isArray(value)) return value.map((item) => maskPayload(item, key));
  if (value && typeof value === 'object') {
    const masked: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) masked[maskKey(k)] = maskPayload(v, k);
    return masked;
  }
  return value;
}
