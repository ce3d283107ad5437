/**
 * One `sendSMS` on VoIP.ms: 160 characters ("max chars: 160"; `sms_toolong` = "exceeds 160 characters").
 * Characters are Unicode code points, so an accent or an emoji costs one, not the two to four bytes UTF-8
 * would charge (counting bytes cut Spanish texts into extra parts and sent them as MMS early).
 */
export const SMS_MAX_CHARS = 160;
/** VoIP.ms `sendMMS` message limit, in characters. */
export const MMS_MAX_CHARS = 2048;
/** Texts needing more SMS parts than this go out as one MMS instead (one bubble, one charge). */
export const MAX_SMS_PARTS = 3;

/** Length in code points (an emoji is one, not two UTF-16 units): how an MMS is measured against MMS_MAX_CHARS. */
export const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

let segmenter: Intl.Segmenter | undefined;

/** Graphemes, so an emoji with modifiers or an accented letter is never cut in two. */
function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/**
 * Splits text into parts each at most `max` long by `measure`, cutting after whitespace where one
 * exists in the part, otherwise between graphemes. Whitespace at the cut is dropped; nothing else is.
 */
export function splitText(
  text: string,
  max: number,
  measure: (part: string) => number = codePoints,
): string[] {
  if (!Number.isInteger(max) || max < 8) throw new RangeError('max must be an integer of at least 8');
  const parts: string[] = [];
  let rest = text.trim();
  while (rest.length > 0) {
    if (measure(rest) <= max) {
      parts.push(rest);
      break;
    }
    const units = graphemes(rest);
    let size = 0;
    let fit = 0;
    let lastSpace = -1;
    for (const unit of units) {
      const next = measure(unit);
      if (size + next > max) break;
      size += next;
      fit++;
      if (/^\s+$/.test(unit)) lastSpace = fit - 1;
    }
    // A single grapheme longer than max (absurd zalgo text) still has to make progress.
    if (fit === 0) fit = 1;
    // Text that fills the part exactly and is followed by a space is cut at that space, not at an earlier one.
    const fullWord = /^\s+$/.test(units[fit] ?? '');
    const cut = fullWord ? fit : lastSpace > 0 ? lastSpace : fit;
    parts.push(units.slice(0, cut).join('').trimEnd());
    // Whitespace after the cut goes a whole grapheme at a time: a space carrying a combining mark stays whole
    // rather than leaving the next part starting with a lone mark.
    let restStart = cut;
    while (restStart < units.length && /^\s+$/.test(units[restStart]!)) restStart++;
    rest = units.slice(restStart).join('');
  }
  return parts;
}

/** The SMS parts VoIP.ms `sendSMS` would be called with: at most 160 characters each. */
export function splitSms(text: string): string[] {
  return splitText(text, SMS_MAX_CHARS, codePoints);
}
