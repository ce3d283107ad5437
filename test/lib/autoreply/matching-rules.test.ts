// How the classifier matches words, stated on words of a practice's own rules (made-up words, so the built-in
// lexicon cannot be what matched): typos by word length, repeated letters, phrases, whole-message keywords,
// and how rule keywords, phrases and priorities weigh in. Figures are written out from the rules in
// lib/autoreply/classifier.ts: a rule keyword weighs 2, a rule phrase 2.5, and confidence is
// score / (score + 1) × (0.5 + 0.5 × lead / score).
import { describe, expect, it } from 'vitest';
import { classify, type IntentRule } from '../../../lib/autoreply/classifier.js';
import { intentRule } from './factories.js';

const SEVEN = 'zqxwvut';
const NINE = 'zqxwvutsr';
const FIVE = 'zqxwv';
const LONGEST = 'zqxwvutsrqponmlkjihgfedcba'; // 26 letters: past the 24 a typo is looked for in
const insurance = [
  intentRule({
    intent: 'insurance',
    keywords: [SEVEN, NINE, FIVE, LONGEST, 'zq7wvut8'],
    phrases: ['blue moon pass'],
  }),
];
/**
 * A fresh array each time: the classifier compiles its lexicon once per rules array, and a test that reused one
 * would not run the compiling at all (the rules are read again only when the array changes).
 */
const matches = (text: string, rules: readonly IntentRule[] = insurance) =>
  classify(text, { rules: [...rules] });

describe('typos', () => {
  it('forgives one edit in a word of six or seven letters, not two', () => {
    expect(matches('zqxwvat')).toMatchObject({ intent: 'insurance', evidence: ['zqxwvat~zqxwvut'] });
    expect(matches('zqxwvu')).toMatchObject({ intent: 'insurance', evidence: ['zqxwvu~zqxwvut'] });
    expect(matches('zqxwaat').intent).toBe('default');
  });

  it('forgives two edits from eight letters on, not three', () => {
    expect(matches('zqxwaatsr')).toMatchObject({ intent: 'insurance', evidence: ['zqxwaatsr~zqxwvutsr'] });
    expect(matches('zqxaaatsr').intent).toBe('default');
  });

  it('forgives no edit in a word of five letters or fewer', () => {
    expect(matches(FIVE)).toMatchObject({ intent: 'insurance', evidence: [FIVE] });
    expect(matches('zqxwa').intent).toBe('default');
  });

  it('counts two neighbouring letters swapped as one edit', () => {
    expect(matches('zqxwuvt')).toMatchObject({ intent: 'insurance', evidence: ['zqxwuvt~zqxwvut'] });
    expect(matches('qzxwvut').intent).toBe('default'); // the first letter is never part of a typo
  });

  it('never changes the first letter, nor looks for typos past 24 letters or in words with digits', () => {
    expect(matches('aqxwvut').intent).toBe('default');
    expect(matches(LONGEST).evidence).toEqual([LONGEST]);
    expect(matches(`${LONGEST.slice(0, -1)}z`).intent).toBe('default');
    expect(matches('zq7wvut8').intent).toBe('insurance');
    expect(matches('zq7wvut9').intent).toBe('default');
  });

  it('reads a doubled letter as one, and shows the word as written beside the one it stood for', () => {
    expect(matches('zqqxwvut')).toMatchObject({ intent: 'insurance', evidence: ['zqqxwvut~zqxwvut'] });
    // Three or more of a letter are one already when the text is read: the word is zqxwv itself.
    expect(matches('zqxwvvv')).toMatchObject({ intent: 'insurance', evidence: [FIVE] });
  });

  it('finds a typo of a word among the words around it', () => {
    expect(matches('hello is zqxwvat ok').evidence).toEqual(['zqxwvat~zqxwvut']);
  });
});

describe('phrases', () => {
  it('match only whole, in order', () => {
    expect(matches('blue moon pass')).toMatchObject({ intent: 'insurance', evidence: ['blue moon pass'] });
    expect(matches('blue moon').intent).toBe('default');
    expect(matches('pass moon blue').intent).toBe('default');
  });

  it('weigh 2.5, a keyword 2, and both together add up', () => {
    expect(matches(SEVEN).confidence).toBe(0.667); // 2/3 × 1
    expect(matches('blue moon pass').confidence).toBe(0.714); // 2.5/3.5 × 1
    expect(matches(`${SEVEN} blue moon pass`)).toMatchObject({
      confidence: 0.818, // 4.5/5.5 × 1
      evidence: [SEVEN, 'blue moon pass'],
    });
  });

  it('weigh the same beside a second rule of the same intent and language', () => {
    const second = intentRule({ intent: 'insurance', keywords: ['zqxb'], phrases: ['red sun'] });
    expect(matches(SEVEN, [...insurance, second]).confidence).toBe(0.667); // 2/3 × 1
    expect(matches('blue moon pass', [...insurance, second]).confidence).toBe(0.714); // 2.5/3.5 × 1
  });

  it('count a word said twice once', () => {
    expect(matches(`${SEVEN} ${SEVEN} ${SEVEN}`)).toMatchObject({ confidence: 0.667, evidence: [SEVEN] });
  });
});

describe('a close call between two intents', () => {
  const rule = (intent: 'location' | 'insurance', keyword: string, priority: number, language = 'en') =>
    intentRule({ intent, keywords: [keyword], priority, language: language as 'en' | 'es' });

  it('is less sure when the runner-up is close: a tie is half as sure as a clear win', () => {
    const rules = [rule('location', 'zzlo', 9), rule('insurance', 'zzhi', 1)];
    expect(classify('zzlo zzhi', { rules })).toMatchObject({ intent: 'location', confidence: 0.333 });
    expect(classify('zzlo', { rules })).toMatchObject({ intent: 'location', confidence: 0.667 });
  });

  it('takes the highest priority among the rules of an intent', () => {
    const rules = [
      rule('location', 'zzlo', 3),
      rule('location', 'zzla', 9, 'es'),
      rule('insurance', 'zzhi', 5),
    ];
    expect(classify('zzlo zzhi', { rules }).intent).toBe('location');
    expect(
      classify('zzlo zzhi', { rules: [rule('location', 'zzlo', 3), rule('insurance', 'zzhi', 5)] }).intent,
    ).toBe('insurance');
  });

  it('keeps the built-in order for an intent whose rule priority is not a number', () => {
    // Built in, location ranks 300: a rule priority of 301 puts insurance above it, 299 below.
    const withRank = (rank: number) => [
      rule('location', 'zzlo', Number.NaN),
      rule('insurance', 'zzhi', rank),
    ];
    expect(classify('zzlo zzhi', { rules: withRank(301) }).intent).toBe('insurance');
    expect(classify('zzlo zzhi', { rules: withRank(299) }).intent).toBe('location');
  });
});

describe("a practice's rules, read defensively", () => {
  it('skips a rule for an intent the classifier does not know, and keywords that are not text', () => {
    const unknown = intentRule({ intent: 'billing' as IntentRule['intent'], keywords: ['zzlo'] });
    expect(classify('zzlo', { rules: [unknown] }).intent).toBe('default');
    const mixed = intentRule({ intent: 'location', keywords: [7 as unknown as string, 'zzlo'] });
    expect(classify('zzlo', { rules: [mixed] }).intent).toBe('location');
  });

  it('reads a rule in a language it does not know as English', () => {
    const french = intentRule({ intent: 'location', language: 'fr' as 'en', keywords: ['zzlo'] });
    expect(classify('zzlo', { rules: [french] })).toMatchObject({ intent: 'location', language: 'en' });
    const spanish = intentRule({ intent: 'location', language: 'es', keywords: ['zzlo'] });
    expect(classify('zzlo', { rules: [spanish] })).toMatchObject({ intent: 'location', language: 'es' });
  });

  it('takes an opt-out keyword as the whole message, with fillers, and never inside a sentence', () => {
    const rules = [intentRule({ intent: 'opt_out', keywords: ['zzend'] })];
    expect(classify('zzend', { rules })).toMatchObject({ intent: 'opt_out', evidence: ['whole:zzend'] });
    expect(classify('please zzend now', { rules }).intent).toBe('opt_out');
    expect(classify('zzend is great', { rules }).intent).toBe('default');
  });
});

describe('whole-message keywords', () => {
  it('hold with fillers and repeats, up to eight words', () => {
    expect(classify('stop please stop').evidence).toEqual(['whole:stop please stop']);
    expect(classify('STOP STOP').intent).toBe('opt_out');
    expect(classify('please please please please please please please stop').intent).toBe('opt_out');
    expect(classify('please please please please please please please please stop').intent).not.toBe(
      'opt_out',
    );
  });
});

describe('negation', () => {
  it('turns a symptom said not to be there into nothing, through a bridging word too', () => {
    expect(classify('it is not swollen').intent).toBe('default');
    expect(classify('my face is swollen').intent).toBe('emergency');
    expect(classify('no me duele').intent).toBe('default');
    expect(classify('me duele la muela').intent).toBe('emergency');
  });
});

describe('one text after another', () => {
  it('keeps nothing of the previous text: its words, positions and pairs start afresh', () => {
    const first = classify('my tooth hurts');
    expect(first.intent).toBe('emergency');
    expect(classify('thanks').evidence).toEqual([]);
    expect(classify('tooth').intent).not.toBe('emergency');
    expect(classify('my tooth hurts')).toEqual(first);
  });
});

describe('words never read as typos', () => {
  it('matches a word of digits only exactly: no repeated digit is squeezed, at either end of 0–9', () => {
    const code = [intentRule({ intent: 'insurance', keywords: ['0123459'] })];
    expect(matches('0123459', code).intent).toBe('insurance');
    expect(matches('00123459', code).intent).toBe('default');
    expect(matches('01234599', code).intent).toBe('default');
  });

  it('reads a common word as itself, never as a typo of a rule keyword', () => {
    const rules = [intentRule({ intent: 'insurance', keywords: ['otther'] })];
    expect(matches('otther', rules).intent).toBe('insurance');
    expect(matches('other', rules).intent).toBe('default');
  });
});

describe('the language of a text with rule words', () => {
  const spanish = (extra: Partial<IntentRule>) => [
    intentRule({ intent: 'insurance', language: 'es', ...extra }),
  ];

  it('counts a phrase as two words of its language', () => {
    expect(matches('zqa zqb the', spanish({ phrases: ['zqa zqb'] })).language).toBe('es');
    expect(matches('zqa zqb the you and', spanish({ phrases: ['zqa zqb'] })).language).toBe('en');
  });

  it("counts the function words inside a phrase as well as the phrase's own two", () => {
    expect(matches('zqa de la zqb the you and', spanish({ phrases: ['zqa de la zqb'] })).language).toBe('es');
  });

  it('counts each rule keyword as a word of its language', () => {
    expect(matches('zqes zqet the', spanish({ keywords: ['zqes', 'zqet'] })).language).toBe('es');
    // One each way: a tie, and no Spanish mark, so English.
    expect(matches('zqes the', spanish({ keywords: ['zqes'] })).language).toBe('en');
  });
});

describe('an opt-out in words', () => {
  it('is an opt-out from a score of exactly 2.5, a phrase of its own rule inside a sentence', () => {
    const rules = [intentRule({ intent: 'opt_out', phrases: ['zq halt now'] })];
    expect(matches('please zq halt now thanks bye', rules)).toMatchObject({
      intent: 'opt_out',
      confidence: 0.9,
    });
  });
});
