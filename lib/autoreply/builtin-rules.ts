// The built-in rules as `auto_responses` rows: what migrations/1732500000001_autoreply-seed.sql inserts. Only
// strong, unambiguous keywords are listed here (the wider vocabulary lives in the lexicon), so loading these rows
// back from the database leaves classification as it is.

import type { IntentRule } from './classifier.js';
import { BUILTIN_PRIORITY, INTENTS, type Intent, type Language } from './lexicon.js';
import { BUILTIN_REPLIES } from './replies.js';

const KEYWORDS: Record<Language, Record<Intent, string[]>> = {
  en: {
    appointment: ['appointment', 'appt', 'reschedule'],
    emergency: ['emergency', 'urgent'],
    hours: ['hours'],
    location: ['address', 'directions'],
    insurance: ['insurance', 'copay', 'deductible'],
    opt_out: ['STOP', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'STOPALL', 'REVOKE', 'OPTOUT'],
    opt_in: ['START', 'UNSTOP', 'SUBSCRIBE'],
    help: ['HELP', 'INFO'],
    default: [],
  },
  es: {
    appointment: ['cita', 'reprogramar'],
    emergency: ['emergencia', 'urgente'],
    hours: ['horario'],
    location: ['direccion', 'ubicacion'],
    insurance: ['aseguranza', 'cobertura'],
    opt_out: ['ALTO', 'BAJA', 'PARAR', 'CANCELAR'],
    opt_in: ['COMENZAR', 'REANUDAR'],
    help: ['AYUDA', 'INFORMACION'],
    default: [],
  },
};

export const BUILTIN_RULES: readonly IntentRule[] = (['en', 'es'] as const).flatMap((language) =>
  INTENTS.map(
    (intent): IntentRule => ({
      intent,
      language,
      keywords: KEYWORDS[language][intent],
      phrases: [],
      priority: BUILTIN_PRIORITY[intent],
      enabled: true,
      responseText: BUILTIN_REPLIES[language][intent],
    }),
  ),
);
