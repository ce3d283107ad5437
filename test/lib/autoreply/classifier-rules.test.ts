// The classifier's rules beyond the corpus score: how sure it says it is, what it shows as evidence, which
// language it answers in, and how a practice's own rules weigh in.
import { describe, expect, it } from 'vitest';
import { classify } from '../../../lib/autoreply/classifier.js';
import { intentRule } from './factories.js';

describe('confidence', () => {
  it('is 0.99 for a whole-message keyword, in either language', () => {
    for (const text of ['STOP', 'HELP', 'START', 'PARAR', 'Stop stop stop']) {
      expect(classify(text).confidence).toBe(0.99);
    }
  });

  it('is at least 0.9 for an opt-out in words, and at least 0.6 for an emergency', () => {
    const optOut = classify('please stop texting me');
    const emergency = classify('my face is swollen and it hurts so bad');
    expect(optOut.intent).toBe('opt_out');
    expect(optOut.confidence).toBeGreaterThanOrEqual(0.9);
    expect(optOut.confidence).toBeLessThan(1);
    expect(emergency.intent).toBe('emergency');
    expect(emergency.confidence).toBeGreaterThanOrEqual(0.6);
    expect(emergency.confidence).toBeLessThan(1);
  });

  it('for default says how sure it is that nothing fits: 0.99 for a text with no known word', () => {
    expect(classify('')).toEqual({ intent: 'default', language: 'en', confidence: 0.99, evidence: [] });
    expect(classify('hello there').confidence).toBe(0.99);
    expect(classify('thanks').confidence).toBe(0.99);
  });

  it('for a plain intent lies between a guess and certainty, rounded to three decimals', () => {
    for (const text of ['can i book an appointment', 'what time do you open on saturday', 'dónde están']) {
      const { confidence } = classify(text);
      expect(confidence).toBeGreaterThan(0.5);
      expect(confidence).toBeLessThan(0.99);
      expect(Math.round(confidence * 1000) / 1000).toBe(confidence);
    }
  });
});

describe('evidence', () => {
  it('lists the words and word pairs that made the intent, and nothing for default', () => {
    expect(classify('can i book an appointment').evidence).toEqual(['book', 'appointment']);
    expect(classify('STOP').evidence).toEqual(['whole:stop']);
    expect(classify('hello there').evidence).toEqual([]);
  });
});

describe('language', () => {
  it('answers a Spanish whole-message keyword in Spanish, an English one in English', () => {
    expect(classify('PARAR').language).toBe('es');
    expect(classify('AYUDA').language).toBe('es');
    expect(classify('STOP').language).toBe('en');
    expect(classify('HELP').language).toBe('en');
  });

  it('reads Spanish from its words, and from its accents when the words do not tell', () => {
    expect(classify('dónde están').language).toBe('es');
    expect(classify('donde estan ustedes').language).toBe('es');
    expect(classify('sí').language).toBe('es');
    expect(classify('ok').language).toBe('en');
  });

  it('takes any Spanish mark (¿ ¡ ñ Ñ á é í ó ú) as Spanish when no word tells, and a text without one as English', () => {
    for (const mark of ['¿', '¡', 'ñ', 'Ñ', 'á', 'é', 'í', 'ó', 'ú']) {
      expect(classify(`zq${mark}x`).language, mark).toBe('es');
    }
    expect(classify('zqx').language).toBe('en');
    expect(classify('zqàx zqüx').language).toBe('en');
  });

  it('lets the words decide before any mark: one more English word is English, accents or not', () => {
    expect(classify('the zqéx').language).toBe('en');
    expect(classify('el zqx').language).toBe('es');
    expect(classify('el the zqéx').language).toBe('es');
    expect(classify('el the zqx').language).toBe('en');
  });
});

describe("a practice's own rules", () => {
  const rule = (intent: 'location' | 'insurance', keyword: string, priority: number) =>
    intentRule({ intent, keywords: [keyword], priority });

  it('break a tie between two intents by their priority', () => {
    const locationFirst = [rule('location', 'zzalpha', 9), rule('insurance', 'zzbeta', 1)];
    const insuranceFirst = [rule('location', 'zzalpha', 1), rule('insurance', 'zzbeta', 9)];
    expect(classify('zzalpha zzbeta', { rules: locationFirst }).intent).toBe('location');
    expect(classify('zzalpha zzbeta', { rules: insuranceFirst }).intent).toBe('insurance');
  });

  it('count a keyword of their own as enough for its intent, in the rule language', () => {
    const rules = [intentRule({ intent: 'insurance', language: 'es', keywords: ['zzgamma'] })];
    expect(classify('zzgamma', { rules })).toMatchObject({ intent: 'insurance', evidence: ['zzgamma'] });
    expect(classify('zzgamma')).toMatchObject({ intent: 'default' });
  });

  it('make a Spanish opt-out word whole-message only, and answer it in Spanish', () => {
    const rules = [intentRule({ intent: 'opt_out', language: 'es', keywords: ['zzdelta'] })];
    expect(classify('zzdelta', { rules })).toMatchObject({
      intent: 'opt_out',
      language: 'es',
      confidence: 0.99,
    });
    expect(classify('zzdelta', { rules: [{ ...rules[0]!, enabled: false }] }).intent).toBe('default');
  });

  it('answer a YES after an opt-out with opt_in in either language, and never otherwise', () => {
    expect(classify('si', { optedOut: true })).toMatchObject({ intent: 'opt_in', language: 'es' });
    expect(classify('yes', { optedOut: true })).toMatchObject({ intent: 'opt_in', language: 'en' });
    expect(classify('si').intent).toBe('default');
    expect(classify('si', { optedOut: false }).intent).toBe('default');
  });
});
