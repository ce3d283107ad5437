import type { Queryable } from '../../../lib/db/index.js';
import { PRACTICE_TWILIO_NUMBER } from '../../support/config.js';

export const ON_CALL = '+15125550101';
export const BACKUP = '+15125550102';
export const EMERGENCY_LINE = '+15125550199';
export const PATIENT = '+14155550123';
export const EMERGENCY_WORDS = 'my tooth was knocked out and it is bleeding a lot';

/** The practice's on-call list (positions 1, 2, ...) and its emergency line, as `cli settings` would store them. */
export async function seedOnCall(
  db: Queryable,
  numbers: readonly string[] = [ON_CALL, BACKUP],
  practiceNumber = PRACTICE_TWILIO_NUMBER,
): Promise<void> {
  for (const [index, phone] of numbers.entries()) {
    await db.query(
      `INSERT INTO alert_recipients (practice_number, phone_number, position) VALUES ($1, $2, $3)`,
      [practiceNumber, phone, index + 1],
    );
  }
  await db.query(`UPDATE voip_settings SET emergency_line = $1 WHERE phone_number = '*'`, [EMERGENCY_LINE]);
}

export async function eventsOf(db: Queryable, type: string) {
  const { rows } = await db.query<{ id: string; detail: Record<string, unknown> }>(
    'SELECT id, detail FROM events WHERE type = $1 ORDER BY recorded_at',
    [type],
  );
  return rows;
}

export async function alertRows(db: Queryable) {
  const { rows } = await db.query<{
    recipient_number: string;
    position: number;
    status: string;
    event_type: string;
    body: string | null;
    escalate_at: Date | null;
  }>(
    `SELECT a.recipient_number, a.position, a.status, a.event_type, m.body, a.escalate_at
     FROM alerts a LEFT JOIN sms_messages m ON m.id = a.message_id ORDER BY a.id`,
  );
  return rows;
}
