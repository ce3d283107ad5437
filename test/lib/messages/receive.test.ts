import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearAutoReplyRulesCache } from '../../../lib/autoreply/rules-store.js';
import { type Db, setDb } from '../../../lib/db/index.js';
import type { InboundSmsEvent } from '../../../lib/messages/inbound.js';
import { type InboundText, receiveInboundText } from '../../../lib/messages/receive.js';
import { logger } from '../../../lib/observability.js';
import { clearPracticeSettingsCache } from '../../../lib/practice/settings.js';
import { localQueues } from '../../../lib/queue/index.js';
import { PRACTICE_TWILIO_NUMBER, PRACTICE_VOIPMS_DID, useConfig } from '../../support/config.js';
import { unreachableDb, useTestDb } from '../../support/db.js';

// An inbound text from either provider, from its fields to the stored row and the answer: what is stored when
// the provider leaves a field out, which time orders it, which office day its reply counts against, who is
// never answered (our own lines), and what happens when the settings or the database cannot be read.
const testDb = useTestDb();
const PATIENT = '+14155550142';
const QUESTION = 'what time do you open?';

let nextId = 0;
const text = (overrides: Partial<InboundText> = {}): InboundText => ({
  provider: 'twilio',
  providerMessageId: `SM${String(++nextId).padStart(32, '0')}`,
  fromNumber: PATIENT,
  toNumber: PRACTICE_TWILIO_NUMBER,
  body: QUESTION,
  ...overrides,
});

const stored = async () =>
  (
    await testDb.db.query<{
      num_segments: number | null;
      num_media: number;
      media_urls: string[] | null;
      sent_at: Date;
    }>(`SELECT num_segments, num_media, media_urls, sent_at FROM sms_messages WHERE direction = 'inbound'`)
  ).rows;
const budgetDay = async () =>
  (
    await testDb.db.query<{ day: string }>(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day FROM auto_reply_budget WHERE phone_number = $1`,
      [PATIENT],
    )
  ).rows.map((row) => row.day);

describe('receiving an inbound text', () => {
  beforeEach(async () => {
    await testDb.db.query(
      `UPDATE voip_settings SET timezone = 'America/New_York', auto_reply_enabled = true`,
    );
    clearPracticeSettingsCache();
    clearAutoReplyRulesCache();
    localQueues.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    setDb(testDb.db);
    localQueues.reset();
  });

  it('answers a patient’s Twilio question with the reply text, and a VoIP.ms one through the queue only', async () => {
    const config = useConfig();
    expect(await receiveInboundText(text(), config)).toMatch(/open/i);
    expect(
      await receiveInboundText(
        text({
          provider: 'voipms',
          providerMessageId: '123456',
          toNumber: `+1${PRACTICE_VOIPMS_DID}`,
          body: 'where is your office?',
        }),
        config,
      ),
    ).toBeNull();
    expect(localQueues.messages('outboundSms')).toHaveLength(1);
  });

  it('a field the provider leaves out is stored empty: no segment count, no media', async () => {
    await receiveInboundText(text(), useConfig());
    expect(await stored()).toMatchObject([{ num_segments: null, num_media: 0, media_urls: [] }]);
  });

  it('a stated media count is kept even when the links are fewer', async () => {
    await receiveInboundText(text({ numMedia: 2, numSegments: 3 }), useConfig());
    expect(await stored()).toMatchObject([{ num_segments: 3, num_media: 2, media_urls: [] }]);
  });

  describe('the time that orders it', () => {
    it('is the provider’s own time when it gives a plausible one', async () => {
      const sentAt = new Date(Date.now() - 3_600_000);
      await receiveInboundText(text({ sentAt }), useConfig());
      expect((await stored())[0]!.sent_at.getTime()).toBe(sentAt.getTime());
    });

    it.each([
      ['absent', undefined],
      ['in the future', new Date(Date.now() + 3_600_000)],
      ['unreadable', new Date('not a date')],
    ])('is the time it reached us when the provider’s is %s', async (_, sentAt) => {
      const before = Date.now();
      await receiveInboundText(text({ sentAt }), useConfig());
      const at = (await stored())[0]!.sent_at.getTime();
      expect(at).toBeGreaterThanOrEqual(before - 1);
      expect(at).toBeLessThanOrEqual(Date.now() + 1);
    });
  });

  describe('the office day its reply counts against', () => {
    it('is the day in the office’s time zone (9 pm in New York is already tomorrow in UTC)', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-03-03T02:00:00.000Z'));
      await receiveInboundText(text(), useConfig());
      expect(await budgetDay()).toEqual(['2026-03-02']);
    });

    it('is the UTC day when the office’s time zone is misspelled, and the text is still answered', async () => {
      await testDb.db.query(`UPDATE voip_settings SET timezone = 'America/Nowhere'`);
      clearPracticeSettingsCache();
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2026-03-03T02:00:00.000Z'));

      expect(await receiveInboundText(text(), useConfig())).toMatch(/\S/);

      expect(await budgetDay()).toEqual(['2026-03-03']);
    });
  });

  describe('our own lines are never answered (two of them would talk forever)', () => {
    it('a text from the practice’s Twilio number', async () => {
      const config = useConfig();
      expect(
        await receiveInboundText(
          text({ fromNumber: PRACTICE_TWILIO_NUMBER, toNumber: '+15005550009' }),
          config,
        ),
      ).toBeNull();
    });

    it('a text from the practice’s VoIP.ms number, written as VoIP.ms writes it (no +1)', async () => {
      const config = useConfig();
      expect(await receiveInboundText(text({ fromNumber: `+1${PRACTICE_VOIPMS_DID}` }), config)).toBeNull();
    });

    it('without a VoIP.ms number configured, patients are still answered', async () => {
      const config = useConfig({ VOIPMS_DID: undefined });
      expect(await receiveInboundText(text(), config)).toMatch(/\S/);
    });
  });

  it('when the database is down: no answer now, the text is deferred with a reply decided from the defaults', async () => {
    const config = useConfig();
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const down = unreachableDb();
    setDb(down);

    expect(await receiveInboundText(text({ body: 'where is your office?' }), config)).toBeNull();

    const [job] = localQueues.messages('ingest') as { action: string; event: InboundSmsEvent }[];
    expect(job?.action).toBe('messages.inbound');
    expect(job?.event.decision.subscribed).toMatchObject({
      intent: 'location',
      reply: expect.stringMatching(/\S/),
    });
    expect(job?.event.officeDay).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The warning says what fell back to defaults, and why.
    expect(
      warn.mock.calls.filter(
        ([message, extra]) =>
          /settings/.test(String(message)) &&
          (extra as { error?: string } | undefined)?.error?.includes('ECONNREFUSED'),
      ),
    ).toHaveLength(1);
  });

  it('on a cold container asks for the rules before the settings, so their lexicon compiles while the settings travel', async () => {
    // Prepare: every statement the text sends, in order
    const asked: string[] = [];
    const real = testDb.db;
    setDb({
      kind: real.kind,
      query: (sql, params) => {
        asked.push(sql.trim());
        return real.query(sql, params);
      },
      transaction: (work) => real.transaction(work),
      session: (work) => real.session(work),
      close: () => real.close(),
    } as Db);
    // Act
    await receiveInboundText(text(), useConfig());
    // Assess: rules, then settings, then the one statement that stores the text
    expect(asked[0]).toMatch(/FROM auto_responses/);
    expect(asked[1]).toMatch(/^SELECT practice_name/);
    expect(asked).toHaveLength(3);
  });
});
