// The rooms `npm run mutation` mutates, and the test files that decide each room's fate. Only these test files
// run against a room's mutants: the suite is too slow to run whole for every mutant on two cores.

/** @type {Record<string, { mutate: string[]; tests: string[]; exclude?: string[] }>} */
export const rooms = {
  calls: {
    mutate: ['lib/calls/**/*.ts'],
    tests: [
      'test/functions/twilio-voice-status.test.ts',
      'test/functions/twilio-voice-incoming.test.ts',
      'test/functions/twilio-recording-status.test.ts',
      'test/lib/calls/*.test.ts',
    ],
  },
  messages: {
    mutate: ['lib/messages/**/*.ts'],
    tests: [
      'test/lib/messages/*.test.ts',
      'test/functions/twilio-sms-status.test.ts',
      'test/functions/twilio-sms-incoming.test.ts',
      'test/functions/voipms-sms-incoming.test.ts',
      'test/functions/outbound-sms-worker.test.ts',
      'test/functions/outbound-sms-worker-voipms.test.ts',
    ],
  },
  http: {
    mutate: ['lib/http/**/*.ts'],
    tests: ['test/lib/http/*.test.ts'],
    // Path binding and request shape on every deployed route (30 s, reached by nearly every mutant of the
    // room): the same rules are stated on the envelope alone by http-rules and envelope-rules.
    exclude: ['test/lib/http/route-security.test.ts'],
  },
  voipms: {
    mutate: ['lib/voipms/**/*.ts'],
    tests: [
      'test/lib/voipms/*.test.ts',
      'test/functions/voipms-*.test.ts',
      'test/functions/outbound-sms-worker-voipms.test.ts',
      // CDR re-ingest: the first outcome stays, and which fields a corrected record may change.
      'test/lib/db/status-rules.test.ts',
    ],
  },
  autoreply: {
    // lexicon.ts is word lists (data, not logic): its mutants would only measure the corpus.
    mutate: ['lib/autoreply/**/*.ts', '!lib/autoreply/lexicon.ts'],
    // The reply decision's rule tests; the guard and confirmation tests send texts through Postgres and belong
    // to lib/messages (every classifier mutant would otherwise run them).
    tests: ['test/lib/autoreply/*.test.ts', 'test/lib/messages/auto-reply-decision.test.ts'],
  },
};

/** The room picked by MUTATION_ROOM (set by scripts/mutation/run.ts for each room in turn). */
export function currentRoom() {
  const name = process.env.MUTATION_ROOM ?? '';
  const room = rooms[name];
  if (!room) throw new Error(`MUTATION_ROOM must be one of ${Object.keys(rooms).join(', ')} (got "${name}")`);
  return { name, ...room };
}
