/** A UTF-16 surrogate without its partner: JSON can escape it ("\ud800") but Postgres jsonb refuses it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The text with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would. */
export const wellFormedText = (text: string): string => text.replace(LONE_SURROGATE, '\uFFFD');

/**
 * A deep copy of a JSON-like value (an HTTP API event, a parsed body) whose strings, keys included, are
 * well-formed: made once at the envelope, so nothing parsed, stored or logged afterwards can meet one.
 */
export function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return wellFormedText(value) as T;
  if (Array.isArray(value)) return value.map(wellFormed) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[wellFormedText(key)] = wellFormed(item);
    return copy as T;
  }
  return value;
}
