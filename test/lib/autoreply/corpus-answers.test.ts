// The classifier's whole answer (intent, language, confidence, evidence) on every labelled message, held to the
// answers recorded in corpus-answers.jsonl. The accuracy tests allow a few misses; this one shows any answer that
// changed, so a change to the classifier or the lexicon is read message by message before it is accepted
// (scripts/corpus-answers.ts records the answers again).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Classification, classify } from '../../../lib/autoreply/classifier.js';

type Answer = Classification & { text: string };

const recorded: Answer[] = readFileSync(new URL('./corpus-answers.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim().length > 0)
  .map((line) => JSON.parse(line) as Answer);

describe('answers on the labelled corpora', () => {
  it('are recorded for every message of both corpora', () => {
    expect(recorded.length).toBe(812 + 235);
  });

  it('are the answers recorded, message by message', () => {
    const changed = recorded
      .map((answer) => ({ answer, now: { text: answer.text, ...classify(answer.text) } }))
      .filter(({ answer, now }) => JSON.stringify(answer) !== JSON.stringify(now))
      .map(({ answer, now }) => `${JSON.stringify(answer)}\n  now ${JSON.stringify(now)}`);
    expect(changed, changed.slice(0, 10).join('\n')).toEqual([]);
  });
});
