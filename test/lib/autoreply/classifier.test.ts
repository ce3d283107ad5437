import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Classification, classify } from '../../../lib/autoreply/classifier.js';
import { INTENTS } from '../../../lib/autoreply/lexicon.js';
import { intentRule, type LabelledMessage, loadCorpus } from './factories.js';

function score(messages: LabelledMessage[]): {
  accuracy: number;
  results: { m: LabelledMessage; c: Classification }[];
} {
  const results = messages.map((m) => ({ m, c: classify(m.text) }));
  const correct = results.filter(({ m, c }) => m.intent === c.intent).length;
  return { accuracy: correct / messages.length, results };
}

function misses(results: { m: LabelledMessage; c: Classification }[]): string[] {
  return results
    .filter(({ m, c }) => m.intent !== c.intent)
    .map(({ m, c }) => `${m.intent} -> ${c.intent}: ${m.text}`);
}

describe('classify on the labelled corpus', () => {
  const corpus = loadCorpus('corpus.jsonl');

  it('holds at least 800 messages in both languages', () => {
    // Prepare / Act
    const spanish = corpus.filter((m) => classify(m.text).language === 'es');
    // Assess
    expect(corpus.length).toBeGreaterThanOrEqual(800);
    expect(spanish.length).toBeGreaterThan(200);
  });

  it('scores at least 95% overall', () => {
    // Act
    const { accuracy, results } = score(corpus);
    console.info(`corpus accuracy ${(accuracy * 100).toFixed(1)}% of ${corpus.length}`);
    // Assess
    expect(accuracy, misses(results).join('\n')).toBeGreaterThanOrEqual(0.95);
  });

  it('catches every opt-out and every emergency', () => {
    // Prepare
    const critical = corpus.filter((m) => m.intent === 'opt_out' || m.intent === 'emergency');
    // Act
    const { results } = score(critical);
    // Assess
    expect(misses(results)).toEqual([]);
  });

  it('never takes an ordinary message for an opt-out', () => {
    // Prepare
    const ordinary = corpus.filter((m) => m.intent !== 'opt_out');
    // Act
    const wrong = ordinary.filter((m) => classify(m.text).intent === 'opt_out').map((m) => m.text);
    // Assess
    expect(wrong).toEqual([]);
  });
});

describe('classify on held-out messages (never used for tuning)', () => {
  const holdout = loadCorpus('corpus-holdout.jsonl');

  it('holds at least 200 messages', () => {
    expect(holdout.length).toBeGreaterThanOrEqual(200);
  });

  it('scores at least 97%', () => {
    // Act
    const { accuracy } = score(holdout);
    console.info(`holdout accuracy ${(accuracy * 100).toFixed(1)}% of ${holdout.length}`);
    // Assess (the figure only: the messages missed are not printed, so nobody tunes on them by accident)
    expect(accuracy).toBeGreaterThanOrEqual(0.97);
  });

  it('catches every emergency and every opt-out, and takes nothing else for an opt-out', () => {
    // Act
    const { results } = score(holdout);
    const critical = results.filter(({ m }) => m.intent === 'emergency' || m.intent === 'opt_out');
    const falseOptOuts = results.filter(({ m, c }) => m.intent !== 'opt_out' && c.intent === 'opt_out');
    // Assess
    expect(critical.filter(({ m, c }) => m.intent !== c.intent).length).toBe(0);
    expect(falseOptOuts.length).toBe(0);
  });
});

describe('classify behaviour', () => {
  it.each([
    ['I need to cancel my appointment', 'appointment'],
    ['the bleeding won’t stop', 'emergency'],
    ['CANCEL', 'opt_out'],
    ['Stop!!', 'opt_out'],
    ['stooop', 'opt_out'],
    ['please stop texting me', 'opt_out'],
    ['no me manden mas mensajes', 'opt_out'],
    ['remove me from your list', 'opt_out'],
    ['why did you stop sending reminders?', 'default'],
    ["don't forget to text me the address", 'location'],
    ['can i get an apointment thurs?', 'appointment'],
    ['my face is swollen and it hurts so bad', 'emergency'],
    ['emergancy', 'emergency'],
    ['u r appt tmrw wat time', 'appointment'],
    ['wat time do u close', 'hours'],
    ['where r u located', 'location'],
    ['do you take delta dental', 'insurance'],
    ['HELP', 'help'],
    ['START', 'opt_in'],
    ['thanks!', 'default'],
    // emergencies told as events, and bleeding that goes on
    ['me caí y se me salió un diente', 'emergency'],
    ['a mi hijo le pegaron con una pelota y se le aflojó un diente', 'emergency'],
    ["it still hasn't stopped bleeding", 'emergency'],
    ['the bleeding stopped, thanks', 'default'],
    ['chipped a tooth but it doesnt hurt, can you see me friday', 'appointment'],
    // stops in plain words, and stops not meant
    ['favor de no contactarme', 'opt_out'],
    ['cancel all texts', 'opt_out'],
    ['I texted stop by mistake, start again please', 'opt_in'],
    ['quiero recibir los mensajes otra vez', 'opt_in'],
    // appointment requests without the word appointment
    ['can we do next week instead', 'appointment'],
    ['are you free tuesday at 4', 'appointment'],
    ['any spots open this week?', 'appointment'],
    ['are you open saturday', 'hours'],
    // place vs topic, help vs the word help
    ['my new address is 10 Main St, please update my file', 'default'],
    ['which bus goes to your office', 'location'],
    ['thanks for your help today', 'default'],
    ['who sent this', 'help'],
    // an emoji right after the word, with no space
    ['STOP🛑', 'opt_out'],
    ['HELP🙏', 'help'],
    ['necesito una cita🦷', 'appointment'],
  ] as const)('%s -> %s', (text, intent) => {
    // Act
    const result = classify(text);
    // Assess
    expect(result.intent).toBe(intent);
  });

  it('treats YES as opt_in only when the sender has opted out', () => {
    // Act
    const ordinary = classify('YES');
    const afterOptOut = classify('yes', { optedOut: true });
    // Assess
    expect(ordinary.intent).toBe('default');
    expect(afterOptOut.intent).toBe('opt_in');
  });

  it('detects Spanish and English', () => {
    // Act / Assess
    expect(classify('¿tienen cita para mañana?').language).toBe('es');
    expect(classify('a que hora cierran').language).toBe('es');
    expect(classify('what time do you close').language).toBe('en');
    expect(classify('STOP').language).toBe('en');
  });

  it('reports evidence, including typo matches', () => {
    // Act
    const result = classify('need to reschedual my apointment');
    // Assess
    expect(result.intent).toBe('appointment');
    expect(result.evidence).toContain('apointment');
    expect(result.evidence.some((e) => e.startsWith('reschedual~'))).toBe(true);
    expect(result.confidence).toBeGreaterThan(0.5);
  });

  it('adds keywords and phrases from enabled rules, ignores disabled ones', () => {
    // Prepare
    const rules = [
      intentRule({ intent: 'insurance', keywords: ['sliding'], phrases: ['sliding scale'] }),
      intentRule({ intent: 'location', keywords: ['shuttle'], enabled: false }),
    ];
    // Act
    const withRule = classify('do you have a sliding scale', { rules });
    const disabled = classify('shuttle', { rules });
    const without = classify('do you have a sliding scale');
    // Assess
    expect(withRule.intent).toBe('insurance');
    expect(disabled.intent).toBe('default');
    expect(without.intent).toBe('default');
  });

  it('takes rule keywords for opt_out only as the whole message', () => {
    // Prepare
    const rules = [intentRule({ intent: 'opt_out', language: 'es', keywords: ['basta ya'] })];
    // Act
    const whole = classify('BASTA YA', { rules });
    const inside = classify('basta ya de dolor, me duele la muela', { rules });
    // Assess
    expect(whole.intent).toBe('opt_out');
    expect(inside.intent).toBe('emergency');
  });
});

describe('classify properties', () => {
  it('never throws and always answers with a valid intent, language and confidence', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (text) => {
          const result = classify(text);
          expect(INTENTS).toContain(result.intent);
          expect(['en', 'es']).toContain(result.language);
          expect(result.confidence).toBeGreaterThanOrEqual(0);
          expect(result.confidence).toBeLessThanOrEqual(1);
          expect(Array.isArray(result.evidence)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is case-insensitive and ignores surrounding punctuation', () => {
    fc.assert(
      fc.property(fc.constantFrom(...loadCorpus('corpus.jsonl').map((m) => m.text)), (text) => {
        expect(classify(`  ${text.toUpperCase()}!!  `).intent).toBe(classify(text.toLowerCase()).intent);
      }),
      { numRuns: 300 },
    );
  });
});
