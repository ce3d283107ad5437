// The texts patients receive, word for word, for every intent in both languages: a practice with everything set,
// during office hours, and one with nothing set, after hours. A change to any of them shows here first.
import { describe, expect, it } from 'vitest';
import { INTENTS } from '../../../lib/autoreply/lexicon.js';
import { composeReply, type ReplyContext } from '../../../lib/autoreply/replies.js';
import { officeStatus } from '../../../lib/practice/hours.js';
import { officeSettings, replyContext } from './factories.js';

// Tuesday 10 June 2025 in New York (EDT, UTC-4): open 08:00-17:00.
const at = (local: string) => new Date(`2025-06-10T${local}:00-04:00`);
const settings = officeSettings({});
const configured = (now: Date) => replyContext(now);
const unset: ReplyContext = {
  practiceName: 'our office',
  officeLine: null,
  emergencyLine: null,
  address: null,
  timezone: settings.timezone,
  status: officeStatus(settings, at('19:30')),
};
/** ICU writes a narrow no-break space before AM/PM in some Node versions. */
const reply = (...args: Parameters<typeof composeReply>) => composeReply(...args).replaceAll('\u202f', ' ');

describe('a practice with its name, lines and address set, during office hours', () => {
  const open = configured(at('10:00'));
  it('answers in English', () => {
    expect(Object.fromEntries(INTENTS.map((intent) => [intent, reply(intent, 'en', open)]))).toEqual({
      appointment:
        'Thanks for texting Bright Smiles Dental! To book, change or cancel an appointment, call (555) 010-2000 or reply with the day and time that suit you and our team will get back to you. We are open now until 5:00 PM.',
      emergency:
        'If this is a dental emergency, call (555) 010-2000 now. We are open now until 5:00 PM. If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
      hours: 'Bright Smiles Dental: We are open now until 5:00 PM. Office line: (555) 010-2000.',
      location: 'Bright Smiles Dental: We are at 12 Main St. Need directions? Call (555) 010-2000.',
      insurance:
        'Bright Smiles Dental works with most dental insurance plans and offers payment options. Call (555) 010-2000 and our team will check your coverage or answer billing questions. We are open now until 5:00 PM.',
      opt_out:
        'You are unsubscribed from Bright Smiles Dental texts and will receive no more messages. Reply START to resubscribe.',
      opt_in:
        'You are subscribed to Bright Smiles Dental texts again. Reply HELP for help, STOP to unsubscribe.',
      help: 'Bright Smiles Dental: for help call (555) 010-2000. Msg & data rates may apply. Reply STOP to unsubscribe.',
      default:
        'Thanks for your message to Bright Smiles Dental. We are open now until 5:00 PM. For anything urgent call (555) 010-2000.',
    });
  });

  it('answers in Spanish', () => {
    expect(Object.fromEntries(INTENTS.map((intent) => [intent, reply(intent, 'es', open)]))).toEqual({
      appointment:
        '¡Gracias por escribir a Bright Smiles Dental! Para hacer, cambiar o cancelar una cita llame al (555) 010-2000 o responda con el día y la hora que le convienen y le contestaremos. Estamos abiertos ahora hasta las 17:00.',
      emergency:
        'Si es una emergencia dental, llame ahora al (555) 010-2000. Estamos abiertos ahora hasta las 17:00. Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.',
      hours: 'Bright Smiles Dental: Estamos abiertos ahora hasta las 17:00. Teléfono: (555) 010-2000.',
      location:
        'Bright Smiles Dental: Estamos en 12 Main St. ¿Necesita indicaciones? Llame al (555) 010-2000.',
      insurance:
        'Bright Smiles Dental trabaja con la mayoría de los seguros dentales y ofrece opciones de pago. Llame al (555) 010-2000 y revisaremos su cobertura o su cuenta. Estamos abiertos ahora hasta las 17:00.',
      opt_out: 'Ya no recibirá mensajes de Bright Smiles Dental. Responda START para volver a suscribirse.',
      opt_in:
        'Está suscrito de nuevo a los mensajes de Bright Smiles Dental. Responda HELP para ayuda, STOP para cancelar.',
      help: 'Bright Smiles Dental: para ayuda llame al (555) 010-2000. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.',
      default:
        'Gracias por su mensaje a Bright Smiles Dental. Estamos abiertos ahora hasta las 17:00. Para algo urgente llame al (555) 010-2000.',
    });
  });
});

describe('a practice with nothing set, after hours', () => {
  it('answers in English with whole sentences', () => {
    expect(Object.fromEntries(INTENTS.map((intent) => [intent, reply(intent, 'en', unset)]))).toEqual({
      appointment:
        'Thanks for texting! To book, change or cancel an appointment, reply with the day and time that suit you and our team will get back to you. We are closed right now.',
      emergency:
        'If this is a dental emergency, call the office now. We are closed right now. If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
      hours: 'We are closed right now. We open again Wed 8:00 AM.',
      location: 'Our team will text you our address. Need directions? Reply here and we will help.',
      insurance:
        'We work with most dental insurance plans and offer payment options. Reply here and our team will check your coverage or answer billing questions. We are closed right now.',
      opt_out:
        'You are unsubscribed from our texts and will receive no more messages. Reply START to resubscribe.',
      opt_in: 'You are subscribed to our texts again. Reply HELP for help, STOP to unsubscribe.',
      help: 'For help, reply with your question and our team will get back to you. Msg & data rates may apply. Reply STOP to unsubscribe.',
      default: 'Thanks for your message. We are closed right now. We open again Wed 8:00 AM.',
    });
  });

  it('answers in Spanish with whole sentences', () => {
    expect(Object.fromEntries(INTENTS.map((intent) => [intent, reply(intent, 'es', unset)]))).toEqual({
      appointment:
        '¡Gracias por escribir! Para hacer, cambiar o cancelar una cita responda con el día y la hora que le convienen y le contestaremos. Ahora estamos cerrados.',
      emergency:
        'Si es una emergencia dental, llame ahora a la oficina. Ahora estamos cerrados. Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.',
      hours: 'Ahora estamos cerrados. Abrimos de nuevo el mié 08:00.',
      location:
        'Le enviaremos nuestra dirección por mensaje. ¿Necesita indicaciones? Responda aquí y le ayudaremos.',
      insurance:
        'Trabajamos con la mayoría de los seguros dentales y ofrecemos opciones de pago. Responda aquí y revisaremos su cobertura o su cuenta. Ahora estamos cerrados.',
      opt_out: 'Ya no recibirá mensajes de nuestra clínica. Responda START para volver a suscribirse.',
      opt_in:
        'Está suscrito de nuevo a los mensajes de nuestra clínica. Responda HELP para ayuda, STOP para cancelar.',
      help: 'Para ayuda, responda con su pregunta y le contestaremos. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.',
      default: 'Gracias por su mensaje. Ahora estamos cerrados. Abrimos de nuevo el mié 08:00.',
    });
  });
});

describe('after hours with an emergency line', () => {
  it('gives the emergency line and when the office opens again', () => {
    const closed = configured(at('19:30'));
    expect(reply('emergency', 'en', closed)).toBe(
      'If this is a dental emergency, call (555) 010-9111 now. We are closed right now. If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
    );
    expect(reply('hours', 'en', closed)).toBe(
      'Bright Smiles Dental: We are closed right now. We open again Wed 8:00 AM. Office line: (555) 010-2000.',
    );
    expect(reply('hours', 'es', closed)).toBe(
      'Bright Smiles Dental: Ahora estamos cerrados. Abrimos de nuevo el mié 08:00. Teléfono: (555) 010-2000.',
    );
  });
});
