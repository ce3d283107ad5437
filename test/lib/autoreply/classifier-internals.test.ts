// The classifier's inner rules, each stated on what a caller sees: the bounded edit distance behind typos, how a
// practice's rules are compiled, how words vote for a language, how the winner and its runner-up are picked, and
// the per-text counter wrapping after 2^32 texts. Rule words are made up (zq…), so no built-in word matches them.
// Every test that depends on the compiling passes a fresh rules array: the lexicon is compiled once per array.
import { describe, expect, it } from 'vitest';
import {
  classify,
  editDistance,
  type IntentRule,
  lexiconFor,
  prepareClassifier,
} from '../../../lib/autoreply/classifier.js';
import { intentRule } from './factories.js';

const withRules = (text: string, rules: IntentRule[]) => classify(text, { rules: [...rules] });
const english = (extra: Partial<IntentRule>) => intentRule({ intent: 'insurance', language: 'en', ...extra });
const spanish = (extra: Partial<IntentRule>) => intentRule({ intent: 'insurance', language: 'es', ...extra });
/** One rule that changes nothing, so that the built-in lexicon is compiled again for the test. */
const builtInOnly = () => [intentRule({ enabled: false })];
const nothingFound = { intent: 'default', language: 'en', confidence: 0.99, evidence: [] };

/** Optimal string alignment distance, written plainly over the whole table. */
function plainDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([]);
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        d[i]![j] = i + j;
        continue;
      }
      const substitution = d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** A small fixed pseudo-random sequence, so a failure is the same on every run. */
function randomWords(seed: number, count: number, letters: string, maxLength: number): string[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const words: string[] = [];
  for (let w = 0; w < count; w++) {
    let word = '';
    const length = Math.floor(next() * (maxLength + 1));
    for (let i = 0; i < length; i++) word += letters[Math.floor(next() * letters.length)];
    words.push(word);
  }
  return words;
}

describe('the bounded edit distance', () => {
  it('counts a change, an insertion, a deletion and a swap of neighbours as one edit each', () => {
    expect(editDistance('kitten', 'sitten', 2)).toBe(1);
    expect(editDistance('kiten', 'kitten', 2)).toBe(1);
    expect(editDistance('kitten', 'kiten', 2)).toBe(1);
    expect(editDistance('kitten', 'iktten', 2)).toBe(1);
    expect(editDistance('abcdef', 'abdcef', 2)).toBe(1);
    expect(editDistance('aa', 'aa', 1)).toBe(0);
    expect(editDistance('', 'abc', 3)).toBe(3);
  });

  it('answers more than the bound, and no more precisely, once the words are further apart', () => {
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('kitten', 'sitting', 2)).toBeGreaterThan(2);
    expect(editDistance('abcdefgh', 'a', 1)).toBeGreaterThan(1);
  });

  it('agrees with the distance worked out over the whole table, call after call', () => {
    // Letters repeat here (the classifier only passes words without doubled letters), and each call follows
    // another of a different length: the rows it works in are shared between calls.
    for (const [seed, letters, maxLength] of [
      [1, 'ab', 6],
      [2, 'abc', 9],
      [3, 'abcdefg', 12],
      [4, 'abcdefghijklmnopqrstuvwxyz', 26],
    ] as const) {
      const words = randomWords(seed, 160, letters, maxLength);
      for (let k = 0; k + 1 < words.length; k++) {
        const a = words[k]!;
        const b = words[k + 1]!;
        for (const max of [0, 1, 2, 3]) {
          const expected = Math.min(plainDistance(a, b), max + 1);
          expect(Math.min(editDistance(a, b, max), max + 1), `${a} / ${b} within ${max}`).toBe(expected);
        }
      }
    }
  });
});

describe('typos and doubled letters', () => {
  it('never reads a five-letter word as a typo, even of a six-letter word', () => {
    const rules = [english({ keywords: ['zqxwvu'] })];
    expect(withRules('zqxwvt', rules)).toMatchObject({ intent: 'insurance', evidence: ['zqxwvt~zqxwvu'] });
    expect(withRules('zqxwv', rules)).toEqual(nothingFound);
  });

  it('looks for typos in words of up to 24 letters', () => {
    const rules = [english({ keywords: ['zqxwvutsrponmlkjihgfedcb'] })];
    expect(withRules('zqxwvutsrponmlkjihgfedca', rules)).toMatchObject({
      intent: 'insurance',
      evidence: ['zqxwvutsrponmlkjihgfedca~zqxwvutsrponmlkjihgfedcb'],
    });
  });

  it('takes the closest word: one edit away beats two, whichever rule lists it first', () => {
    const rules = [
      english({ intent: 'insurance', keywords: ['zqxwvutab'] }),
      english({ intent: 'appointment', keywords: ['zqxwvutmb'] }),
    ];
    expect(withRules('zqxwvutmn', rules)).toMatchObject({
      intent: 'appointment',
      evidence: ['zqxwvutmn~zqxwvutmb'],
    });
  });

  it('finds a word of five letters written with a doubled letter once, from a word of four', () => {
    const rules = [english({ keywords: ['zqxxw'] })];
    expect(withRules('zqxw', rules)).toMatchObject({ intent: 'insurance', evidence: ['zqxw~zqxxw'] });
  });

  it('reads a word of three letters only as itself, never as a word with doubled letters', () => {
    const rules = [english({ keywords: ['zzqqx'] })];
    expect(withRules('zzqqx', rules).intent).toBe('insurance');
    expect(withRules('zqx', rules)).toEqual(nothingFound);
  });

  it('keeps a built-in word for a spelling that a rule word also reduces to', () => {
    // "swolen" is "swollen" and "swoollen" with their doubled letters written once: the built-in word wins.
    const rules = [english({ keywords: ['swoollen'] })];
    expect(withRules('swolen', rules)).toMatchObject({ intent: 'emergency', evidence: ['swolen~swollen'] });
  });
});

describe("a practice's rules, compiled", () => {
  it('skips an empty slot in the list of rules', () => {
    const rules = [null as unknown as IntentRule, english({ keywords: ['zqlo'] })];
    expect(withRules('zqlo', rules)).toMatchObject({ intent: 'insurance', evidence: ['zqlo'] });
  });

  it('answers an English whole-message keyword in the language of the text', () => {
    const rules = [english({ intent: 'opt_out', keywords: ['zqend'] })];
    expect(withRules('zqend', rules)).toMatchObject({ intent: 'opt_out', language: 'en' });
  });

  it("counts a phrase only for its own rule's intent", () => {
    const rules = [
      english({ intent: 'insurance', phrases: ['zq blue moon'] }),
      english({ intent: 'appointment', phrases: ['zq red sun'] }),
    ];
    expect(withRules('zq blue moon', rules)).toMatchObject({ intent: 'insurance', confidence: 0.714 }); // 2.5/3.5
  });

  it('ignores a whole-message keyword with no letter or digit: an empty text or a lone "thanks" stays default', () => {
    const rules = [english({ intent: 'opt_out', keywords: ['!!!', ' '] })];
    expect(withRules('', rules)).toEqual(nothingFound);
    expect(withRules('thanks', rules).intent).toBe('default');
  });

  it('never lets a rule give a built-in whole-message keyword another meaning: STOP stays an opt-out', () => {
    const rules = [english({ intent: 'opt_in', keywords: ['stop', 'zqgo'] })];
    expect(withRules('STOP', rules)).toMatchObject({ intent: 'opt_out', evidence: ['whole:stop'] });
    expect(withRules('zqgo', rules).intent).toBe('opt_in');
  });

  it('reads a text that is not a string as an empty one, whatever words the rules list', () => {
    const rules = [english({ intent: 'location', keywords: ['here'] })];
    expect(withRules(null as unknown as string, rules)).toEqual(nothingFound);
    expect(withRules(undefined as unknown as string, rules)).toEqual(nothingFound);
    expect(withRules('here', rules).intent).toBe('location');
  });
});

describe('whole-message keywords of the built-in lexicon', () => {
  it('answer a Spanish keyword of several words in Spanish, even with English fillers', () => {
    expect(withRules('no me interesa thank you', builtInOnly())).toMatchObject({
      intent: 'opt_out',
      language: 'es',
    });
    expect(withRules('quien es thank you', builtInOnly())).toMatchObject({ intent: 'help', language: 'es' });
  });
});

describe('negation in the built-in lexicon', () => {
  it('drops a symptom said not to be there when it has no opposite to stand for', () => {
    expect(withRules('it is not swollen', builtInOnly())).toEqual(nothingFound);
    expect(withRules('there is no bleeding', builtInOnly())).toEqual(nothingFound);
  });
});

describe('the language of a text', () => {
  it('counts an English phrase as two English words', () => {
    expect(withRules('zqa zqb de', [english({ phrases: ['zqa zqb'] })]).language).toBe('en');
  });

  it('counts the words of an English phrase that are not function words for neither language', () => {
    expect(withRules('zqa zqb zqc de', [english({ phrases: ['zqa zqb zqc'] })]).language).toBe('en');
  });

  it('counts English function words inside an English phrase as English', () => {
    const rules = [english({ phrases: ['zqa the you zqb'] })];
    expect(withRules('zqa the you zqb de la el', rules).language).toBe('en'); // 2 + 2 against 3
  });

  it('counts a function word before a phrase once, and the last word of a phrase too', () => {
    const phrase = [spanish({ phrases: ['zqa zqb'] })];
    expect(withRules('the zqa zqb', phrase).language).toBe('es'); // 2 against 1
    const endingInDe = [spanish({ phrases: ['zqa zqb de'] })];
    expect(withRules('zqa zqb de the you', endingInDe).language).toBe('es'); // 2 + 1 against 2
  });

  it('lets a phrase or keyword listed in both languages vote for neither', () => {
    const both = (extra: Partial<IntentRule>) => [spanish(extra), english(extra)];
    expect(withRules('zqa zqb the', both({ phrases: ['zqa zqb'] })).language).toBe('en');
    expect(withRules('zqlo zqlp the', both({ keywords: ['zqlo', 'zqlp'] })).language).toBe('en');
    expect(withRules('zqlo', both({ keywords: ['zqlo'] })).language).toBe('en');
  });

  it('counts each English rule keyword as an English word', () => {
    expect(withRules('zqes zqet de', [english({ keywords: ['zqes', 'zqet'] })]).language).toBe('en');
  });
});

describe('the winner and how sure it is', () => {
  it('never answers an opt-out for a score under 2.5, even the highest of a text', () => {
    // Two opt-out phrases (2.5 each) less a stop said by mistake (-3) leave 2.
    const rules = [
      english({ intent: 'opt_out', phrases: ['zq halt now'] }),
      spanish({ intent: 'opt_out', phrases: ['zq alto ya'] }),
    ];
    expect(withRules('zq halt now zq alto ya i accidentally said stop', rules)).toEqual(nothingFound);
    expect(withRules('zq halt now zq alto ya', rules).intent).toBe('opt_out');
  });

  it('gives a tie in score and priority to the intent listed first: hours before location', () => {
    const rules = [
      english({ intent: 'location', keywords: ['zqlo'], priority: 500 }),
      english({ intent: 'hours', keywords: ['zqho'], priority: 500 }),
    ];
    expect(withRules('zqlo zqho', rules)).toMatchObject({ intent: 'hours', confidence: 0.333 });
  });

  it('measures the lead against the second highest score, not the last one seen', () => {
    const rules = [
      english({ intent: 'appointment', keywords: ['zqap'], phrases: ['zq ap now'] }),
      english({ intent: 'hours', phrases: ['zq ho now'] }),
      english({ intent: 'location', keywords: ['zqlo'] }),
    ];
    // 4.5 against 2.5 (and 2): 4.5/5.5 × (0.5 + 0.5 × 2/4.5)
    expect(withRules('zqap zq ap now zq ho now zqlo', rules)).toMatchObject({
      intent: 'appointment',
      confidence: 0.591,
    });
  });

  it('shows as evidence only what speaks for the answer, not a pair that speaks against it', () => {
    expect(classify('my tooth pain is better but my face is swollen and bleeding')).toEqual({
      intent: 'emergency',
      language: 'en',
      confidence: 0.778,
      evidence: ['pain', 'swollen', 'bleeding', 'pain+tooth', 'swollen+face'],
    });
  });
});

describe('the counter of texts', () => {
  it('starts afresh when it wraps after 2^32 texts: no word of an earlier text counts', () => {
    const rules = builtInOnly();
    const lexicon = lexiconFor(rules);
    expect(classify('please stop texting me', { rules }).intent).toBe('opt_out');
    lexicon.generation = -1; // the next text is the 2^32nd
    expect(classify('thank you', { rules })).toEqual(nothingFound);
    expect(classify('my face is swollen', { rules })).toMatchObject({ intent: 'emergency' });
  });
});

describe('prepareClassifier', () => {
  it('compiles the lexicon for a rule set ahead of its first text, which then uses it as it is', () => {
    // Prepare: a rule set of its own (the lexicon is compiled once per rules array)
    const rules = builtInOnly();
    // Act
    const returned = prepareClassifier(rules);
    const prepared = lexiconFor(rules);
    const generation = prepared.generation;
    classify('what time do you open', { rules });
    // Assess: the same rules back, and the text counted on the prepared lexicon, not a new one
    expect(returned).toBe(rules);
    expect(lexiconFor(rules)).toBe(prepared);
    expect(prepared.generation).toBe(generation + 1);
  });
});
