import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../../lib/db/index.js';
import type { ReplyChoice } from '../../../lib/messages/auto-reply.js';
import { recordInboundSms } from '../../../lib/messages/inbound.js';
import { serverUrl, useTestDb } from '../../support/db.js';

// A consent change committed by another delivery while this one runs (real Postgres, two sessions): the text
// read the patient's consent before the other committed, so only the statement's own upsert can tell that its
// change is now the older one. Then it is stored and not applied, whichever way it goes.
const testDb = useTestDb();
const PATIENT = '+14155550142';
const PRACTICE = '+15005550006';

const choice = (opt_out: 'out' | 'in'): ReplyChoice => ({
  intent: opt_out === 'out' ? 'opt_out' : 'opt_in',
  language: 'en',
  reply: opt_out === 'out' ? 'You will get no more texts.' : 'Welcome back.',
  opt_out,
  keyword: opt_out === 'out' ? 'STOP' : 'START',
  confirmation: true,
});

/** Another session commits a newer change to `state` (at 16:00) while `act` runs and waits on its row lock. */
async function whileANewerChangeCommits(state: 'out' | 'in', act: () => Promise<void>) {
  const other = new pg.Client({ connectionString: testDb.url });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query(
      `UPDATE consent_changes SET state = $2, changed_at = '2026-03-02T16:00:00Z' WHERE phone_number = $1`,
      [PATIENT, state],
    );
    if (state === 'out')
      await other.query(
        `INSERT INTO opt_outs (phone_number, keyword, provider, opted_out_at)
         VALUES ($1, 'STOP', 'twilio', '2026-03-02T16:00:00Z') ON CONFLICT (phone_number) DO NOTHING`,
        [PATIENT],
      );
    else await other.query('DELETE FROM opt_outs WHERE phone_number = $1', [PATIENT]);
    const acting = act();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the text now waits on the consent row
    await other.query('COMMIT');
    await acting;
  } finally {
    await other.end();
  }
}

const receive = (opt_out: 'out' | 'in', sentAt: string) =>
  recordInboundSms.run(testDb.db as Db, {
    provider: 'twilio',
    providerMessageId: `SM${Math.random().toString(16).slice(2).padEnd(32, '0')}`,
    fromNumber: PATIENT,
    toNumber: PRACTICE,
    body: opt_out === 'out' ? 'STOP' : 'START',
    numSegments: 1,
    numMedia: 0,
    mediaUrls: [],
    decision: { subscribed: choice(opt_out), optedOut: choice(opt_out) },
    officeDay: '2026-03-02',
    sentAt,
  });

const state = async () => ({
  consent: (await testDb.db.query('SELECT state FROM consent_changes')).rows,
  optedOut: (await testDb.db.query('SELECT keyword FROM opt_outs')).rows,
  replies: (await testDb.db.query(`SELECT body FROM sms_messages WHERE direction = 'outbound'`)).rows,
});

describe.skipIf(!serverUrl)('a consent change that loses a race (needs real Postgres)', () => {
  it('a STOP sent before a START that commits while it runs is stored, not applied, not confirmed', async () => {
    // Prepare: the patient opted in at 15:00
    await testDb.db.query(
      `INSERT INTO consent_changes (phone_number, state, changed_at) VALUES ($1, 'in', '2026-03-02T15:00:00Z')`,
      [PATIENT],
    );

    // Act: a STOP sent at 15:30 runs while a START sent at 16:00 commits
    await whileANewerChangeCommits('in', async () => {
      await receive('out', '2026-03-02T15:30:00Z');
    });

    // Assess
    expect(await state()).toEqual({ consent: [{ state: 'in' }], optedOut: [], replies: [] });
  });

  it('a START sent before a STOP that commits while it runs is stored, not applied, not confirmed', async () => {
    // Prepare: the patient opted out at 15:00
    await testDb.db.query(
      `INSERT INTO consent_changes (phone_number, state, changed_at) VALUES ($1, 'out', '2026-03-02T15:00:00Z')`,
      [PATIENT],
    );
    await testDb.db.query(
      `INSERT INTO opt_outs (phone_number, keyword, provider, opted_out_at)
       VALUES ($1, 'STOP', 'twilio', '2026-03-02T15:00:00Z')`,
      [PATIENT],
    );

    // Act: a START sent at 15:30 runs while a STOP sent at 16:00 commits
    await whileANewerChangeCommits('out', async () => {
      await receive('in', '2026-03-02T15:30:00Z');
    });

    // Assess
    expect(await state()).toEqual({
      consent: [{ state: 'out' }],
      optedOut: [{ keyword: 'STOP' }],
      replies: [],
    });
  });
});
