// How a patient's text is cut into words before classification: the rules written out, one per test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONCEPTS, SPANISH_WHOLE_MESSAGE, WHOLE_MESSAGE } from '../../../lib/autoreply/lexicon.js';
import { normalize, squeeze, tokenize, tokenizeTerm } from '../../../lib/autoreply/normalize.js';

describe('tokenize', () => {
  it('lower-cases and splits on anything that is not a letter or a digit', () => {
    expect(tokenize('Can I BOOK a cleaning?Tues@3pm')).toEqual([
      'can',
      'i',
      'book',
      'a',
      'cleaning',
      'tuesday',
      '3pm',
    ]);
    expect(tokenize('a-b_c/f.g')).toEqual(['a', 'b', 'c', 'f', 'g']);
  });

  it('folds accents to the base letter, in either case, wherever they fall in a word', () => {
    expect(tokenize('ÉMERGENCIA mañana Ubicación')).toEqual(['emergencia', 'manana', 'ubicacion']);
    expect(tokenize('ñu')).toEqual(['nu']);
    expect(tokenize('caféx niño')).toEqual(['cafex', 'nino']);
    expect(tokenize('ŽÝ')).toEqual(['zy']);
  });

  it('joins words around an apostrophe of any kind, never splitting them', () => {
    expect(tokenize("won't")).toEqual(['wont']);
    expect(tokenize('can’t')).toEqual(['cant']);
    expect(tokenize('don‘t it`s o´k')).toEqual(['dont', 'its', 'ok']);
    expect(tokenize("'quoted'")).toEqual(['quoted']);
    expect(tokenize("café's")).toEqual(['cafes']);
  });

  it('collapses runs of three or more equal letters to one, keeps pairs, never touches digits', () => {
    expect(tokenize('soooo helppp')).toEqual(['so', 'help']);
    expect(tokenize('bleeding')).toEqual(['bleeding']);
    expect(tokenize('1000 2222')).toEqual(['1000', '2222']);
    expect(tokenize('ayuuuda')).toEqual(['ayuda']);
    expect(tokenize('ááá')).toEqual(['a']);
    expect(tokenize('aaab')).toEqual(['ab']);
    // Digits in a word whose letters collapse stay as written.
    expect(tokenize('sooo1000 ahhh999 x1000yyy')).toEqual(['so1000', 'ah999', 'x1000y']);
  });

  it('collapses each run of a word on its own: a pair beside a collapsed run stays a pair', () => {
    expect(tokenize('aaabbcc')).toEqual(['abbcc']);
    expect(tokenize('aaabbbcc')).toEqual(['abcc']);
    expect(tokenize('cooool coool cool')).toEqual(['col', 'col', 'cool']);
    expect(tokenize('zzz zz')).toEqual(['z', 'zz']);
    expect(tokenize('sooo cool')).toEqual(['so', 'cool']);
  });

  it('collapses runs of accented letters too, once folded, wherever they fall', () => {
    expect(tokenize('caféééé')).toEqual(['cafe']);
    expect(tokenize('abééécd')).toEqual(['abecd']);
    expect(tokenize('añooo')).toEqual(['ano']);
    expect(tokenize('sí, sííí')).toEqual(['si', 'si']);
  });

  it('folds upper-case accented letters, and joins a word across an accent in its middle', () => {
    expect(tokenize('ÁRBOL')).toEqual(['arbol']);
    expect(tokenize('Ñandú café ok')).toEqual(['nandu', 'cafe', 'ok']);
    expect(tokenize('aÀb')).toEqual(['aab']);
    expect(tokenize('José’s café')).toEqual(['joses', 'cafe']);
  });

  it('expands SMS shorthand in English and Spanish, and only when asked to', () => {
    expect(tokenize('u r appt tmrw')).toEqual(['you', 'are', 'appointment', 'tomorrow']);
    expect(tokenize('xq porfa')).toEqual(['porque', 'por', 'favor']);
    expect(tokenize('u r appt', false)).toEqual(['u', 'r', 'appt']);
    expect(tokenize('uu')).toEqual(['uu']);
    expect(tokenize('TMRW pls')).toEqual(['tomorrow', 'please']);
    // Longer than any shorthand: kept as written, even when it starts like one.
    expect(tokenize('tmrwxyzabcdefghij')).toEqual(['tmrwxyzabcdefghij']);
  });

  it('reads the tooth, blood and hurt emoji as words and every other emoji as a gap', () => {
    expect(tokenize('my🦷hurts🩸')).toEqual(['my', 'tooth', 'hurts', 'blood']);
    expect(tokenize('ouch🤕')).toEqual(['ouch', 'hurt']);
    expect(tokenize('ok😀fine')).toEqual(['ok', 'fine']);
    expect(tokenize('中文')).toEqual([]);
    expect(tokenize('🦷😀🩸')).toEqual(['tooth', 'blood']);
    expect(tokenize('hi \ud83d')).toEqual(['hi']);
  });

  it('ends a word right before an emoji that follows it without a space', () => {
    expect(tokenize('STOP🛑')).toEqual(['stop']);
    expect(tokenize('HELP🙏please')).toEqual(['help', 'please']);
    expect(tokenize('niño🦷')).toEqual(['nino', 'tooth']);
  });

  it('gives no words for empty, symbol-only or non-text input, and never throws', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize('?!… ¿¡')).toEqual([]);
    expect(tokenize(undefined as unknown as string)).toEqual([]);
    expect(tokenize(42 as unknown as string)).toEqual([]);
  });

  it('is the same on a second call: no state leaks from one text to the next', () => {
    expect(tokenize("won'")).toEqual(['won']);
    expect(tokenize('ab')).toEqual(['ab']);
    expect(tokenize('ñaaa')).toEqual(['na']);
    expect(tokenize('bcd')).toEqual(['bcd']);
  });
});

describe('normalize and squeeze', () => {
  it('normalize is the words joined by single spaces', () => {
    expect(normalize('  Where   R U?? ')).toEqual('where are you');
  });

  it('squeeze turns any run of a letter into one', () => {
    expect(squeeze('apppointment')).toBe('apointment');
    expect(squeeze('appointment')).toBe('apointment');
    expect(squeeze('apointment')).toBe('apointment');
    expect(squeeze('aa')).toBe('a');
    expect(squeeze('')).toBe('');
    expect(squeeze('abb')).toBe('ab');
    expect(squeeze('abba')).toBe('aba');
    expect(squeeze('ab')).toBe('ab');
  });
});

describe('tokenizeTerm (a lexicon term, split without the character loop when written plainly)', () => {
  const lexiconTerms = [
    ...CONCEPTS.flatMap((concept) => [...(concept.en ?? []), ...(concept.es ?? []), ...(concept.any ?? [])]),
    ...WHOLE_MESSAGE.flatMap((group) => group.terms),
    ...SPANISH_WHOLE_MESSAGE,
  ];

  it('gives every term of the lexicon the words tokenize gives it', () => {
    const differing = lexiconTerms.filter(
      (term) => tokenizeTerm(term).join('|') !== tokenize(term).join('|'),
    );
    expect(lexiconTerms.length).toBeGreaterThan(1000);
    expect(differing).toEqual([]);
  });

  it('falls back to the tokeniser for shorthand, letter runs, capitals, marks and odd spacing', () => {
    expect(tokenizeTerm('appt tmrw')).toEqual(tokenize('appt tmrw'));
    expect(tokenizeTerm('u there')).toEqual(['you', 'there']);
    expect(tokenizeTerm('helppp')).toEqual(['help']);
    expect(tokenizeTerm('Cita mañana')).toEqual(['cita', 'manana']);
    expect(tokenizeTerm("won't  stop")).toEqual(['wont', 'stop']);
    expect(tokenizeTerm(' ')).toEqual([]);
  });

  it('agrees with tokenize on any text (property)', () => {
    const plainish = fc.stringMatching(/^[a-z0-9 ]{0,24}$/);
    fc.assert(
      fc.property(fc.oneof(plainish, fc.string(), fc.string({ unit: 'grapheme' })), (text) => {
        expect(tokenizeTerm(text)).toEqual(tokenize(text));
      }),
      { numRuns: 2000 },
    );
  });
});
