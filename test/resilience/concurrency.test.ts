import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localQueues } from '../../lib/queue/index.js';
import { useConfig } from '../support/config.js';
import { serverUrl, useTestDb } from '../support/db.js';
import { invoke } from '../support/events.js';
import { fakeSid } from '../support/twilio.js';
import { existingRoutes, routeExists } from './routes.js';

/**
 * Providers deliver at least once, sometimes in parallel and out of order. Only a real Postgres shows what
 * concurrent transactions do (PGlite runs one statement at a time), so these need TEST_DATABASE_URL.
 */
describe.skipIf(!serverUrl)(
  'concurrent and out-of-order deliveries (real Postgres; skipped without TEST_DATABASE_URL)',
  () => {
    const testDb = useTestDb({ real: true });
    let routes: Awaited<ReturnType<typeof existingRoutes>>;
    const route = (name: string) => routes.find((candidate) => candidate.name === name)!;

    beforeAll(async () => {
      routes = await existingRoutes();
    });
    beforeEach(() => {
      useConfig();
      localQueues.reset();
    });

    const rows = async (sql: string, params: unknown[] = []) => (await testDb.db.query(sql, params)).rows;
    const logCount = async () => (await rows('SELECT count(*)::int AS n FROM webhook_logs'))[0]!.n as number;

    it('stores one row for the same status callback delivered 20 times at once', async () => {
      // Prepare
      const status = route('twilio/sms/status');
      const params = status.params();

      // Act
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => invoke(status.handler, status.event(params))),
      );

      // Assess
      expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(204));
      expect(await rows('SELECT status FROM sms_messages')).toEqual([{ status: 'delivered' }]);
      expect(await logCount()).toBe(20);
    });

    it.skipIf(!routeExists('twilio/sms/incoming'))(
      'stores one inbound row and exactly one reply for the same inbound SMS delivered 20 times at once',
      async () => {
        // Prepare
        const incoming = route('twilio/sms/incoming');
        const params = incoming.params();

        // Act
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => invoke(incoming.handler, incoming.event(params))),
        );

        // Assess
        expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(200));
        const inbound = await rows(`SELECT id FROM sms_messages WHERE direction = 'inbound'`);
        const replies = await rows(`SELECT id FROM sms_messages WHERE direction = 'outbound'`);
        expect(inbound).toHaveLength(1);
        // The question gets its auto-reply once: in one TwiML answer, never in two, never in none.
        expect(replies).toHaveLength(1);
        const answered = answers.filter((answer) => answer.body.includes('<Message'));
        expect(answered).toHaveLength(1);
        expect(await logCount()).toBe(20);
      },
    );

    it.skipIf(!routeExists('voipms/sms/incoming'))(
      'stores and answers a VoIP.ms text delivered 20 times at once exactly once',
      async () => {
        // Prepare
        const incoming = route('voipms/sms/incoming');
        const params = incoming.params();

        // Act
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => invoke(incoming.handler, incoming.event(params))),
        );

        // Assess
        expect(answers.map((answer) => answer.body)).toEqual(Array(20).fill('ok'));
        expect(await rows(`SELECT id FROM sms_messages WHERE direction = 'inbound'`)).toHaveLength(1);
        const replies = await rows(`SELECT id FROM sms_messages WHERE direction = 'outbound'`);
        expect(replies).toHaveLength(1);
        expect(localQueues.messages('outboundSms')).toHaveLength(1);
      },
    );

    it('ends on the final status whatever order the status callbacks arrive in, even all at once', async () => {
      const status = route('twilio/sms/status');
      const lifecycles = [
        ['accepted', 'queued', 'sending', 'sent', 'delivered'],
        ['queued', 'sending', 'sent', 'undelivered'],
        ['queued', 'sent', 'delivered', 'read'],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc
            .constantFrom(...lifecycles)
            .chain((lifecycle) =>
              fc.tuple(
                fc.constant(lifecycle),
                fc.shuffledSubarray(lifecycle, { minLength: lifecycle.length }),
              ),
            ),
          fc.boolean(),
          async ([lifecycle, shuffled], together) => {
            // Prepare
            const sid = fakeSid('SM');
            const events = shuffled.map((value) =>
              status.event({
                ...status.params(),
                MessageSid: sid,
                SmsSid: sid,
                MessageStatus: value,
                SmsStatus: value,
              }),
            );

            // Act
            if (together) await Promise.all(events.map((event) => invoke(status.handler, event)));
            else for (const event of events) await invoke(status.handler, event);

            // Assess
            const stored = await rows('SELECT status FROM sms_messages WHERE provider_message_id = $1', [
              sid,
            ]);
            expect(stored).toEqual([{ status: lifecycle.at(-1) }]);
          },
        ),
        { numRuns: 12 },
      );
    });

    it.skipIf(!routeExists('twilio/voice/status'))(
      'ends a call on its final status whatever order the call progress events arrive in',
      async () => {
        const voice = route('twilio/voice/status');
        const lifecycle = ['queued', 'ringing', 'in-progress', 'completed'];
        await fc.assert(
          fc.asyncProperty(
            fc.shuffledSubarray(lifecycle, { minLength: lifecycle.length }),
            async (shuffled) => {
              const sid = fakeSid('CA');
              await Promise.all(
                shuffled.map((value) =>
                  invoke(
                    voice.handler,
                    voice.event({
                      ...voice.params(),
                      CallSid: sid,
                      CallStatus: value,
                      SequenceNumber: String(lifecycle.indexOf(value)),
                    }),
                  ),
                ),
              );
              const stored = await rows('SELECT status FROM calls WHERE provider_call_id = $1', [sid]);
              expect(stored).toEqual([{ status: 'completed' }]);
            },
          ),
          { numRuns: 8 },
        );
      },
    );
  },
);
