/** The text with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder would. */
export const wellFormedText = (text: string): string => (text.isWellFormed() ? text : text.toWellFormed());

/** Whether every string in a JSON-like value, keys included, is already well-formed (the usual case). */
function allWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (Array.isArray(value)) return value.every(allWellFormed);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const key in value) {
      if (!key.isWellFormed() || !allWellFormed((value as Record<string, unknown>)[key])) return false;
    }
  }
  return true;
}

function copyWellFormed<T>(value: T): T {
  if (typeof value === 'string') return wellFormedText(value) as T;
  if (Array.isArray(value)) return value.map(copyWellFormed) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[wellFormedText(key)] = copyWellFormed(item);
    return copy as T;
  }
  return value;
}

/**
 * A JSON-like value (an HTTP API event, a parsed body) whose strings, keys included, are well-formed: a UTF-16
 * surrogate without its partner (JSON can escape one, "\ud800") becomes U+FFFD, since Postgres jsonb refuses it.
 * Applied once at the envelope, so nothing parsed, stored or logged afterwards can meet one. The value itself
 * when it is already well-formed, else a deep copy.
 */
export function wellFormed<T>(value: T): T {
  return allWellFormed(value) ? value : copyWellFormed(value);
}
