// Tokenizer rules at the edges: the longest shorthand, stray apostrophes, and the invisible character that
// follows many emoji.
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../../lib/autoreply/normalize.js';

describe('tokenize at the edges', () => {
  it('expands the longest shorthand words (eight letters) like any other', () => {
    // Act
    const words = tokenize('tommorow porfavor');
    // Assess
    expect(words).toEqual(['tomorrow', 'por', 'favor']);
  });

  it('gives no word for an apostrophe standing alone, between words or at either end', () => {
    // Act
    const between = tokenize("ok ' bye");
    const atTheEnds = tokenize("' hi ’");
    const alone = tokenize('’');
    // Assess
    expect(between).toEqual(['ok', 'bye']);
    expect(atTheEnds).toEqual(['hi']);
    expect(alone).toEqual([]);
  });

  it('keeps the word after an emoji with a variation selector (❤️) whole', () => {
    // Prepare: ❤️ is U+2764 followed by U+FE0F, a character of its own, not half of a pair
    const text = 'Thanks\u2764\ufe0fsee you';
    // Act
    const words = tokenize(text);
    // Assess
    expect(words).toEqual(['thanks', 'see', 'you']);
  });
});
