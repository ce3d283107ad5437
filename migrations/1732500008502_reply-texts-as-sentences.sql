-- Built-in reply texts that read as sentences when the practice has not set its name, office line or address
-- ("[A|B]": A when its placeholders are configured, else B; see lib/autoreply/replies.ts). Only rows still exactly
-- as seeded are rewritten: a practice's own text is kept.
-- Up Migration
UPDATE auto_responses a
SET response_text = t.new_text
FROM (VALUES
  ('appointment', 'en', 'Thanks for texting {practice_name}! To book, change or cancel an appointment, call {office_line} or reply with the day and time that suit you and our team will get back to you. {open_status}',
   'Thanks for texting[ {practice_name}|]! To book, change or cancel an appointment, [call {office_line} or reply|reply] with the day and time that suit you and our team will get back to you. {open_status}'),
  ('emergency', 'en', 'If this is a dental emergency, call {emergency_line} now. {open_status} If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
   'If this is a dental emergency, [call {emergency_line} now.|call the office now.] {open_status} If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.'),
  ('hours', 'en', '{practice_name}: {open_status} {next_open} Office line: {office_line}.',
   '[{practice_name}: |]{open_status} {next_open}[ Office line: {office_line}.|]'),
  ('location', 'en', '{practice_name} is at {address}. Need directions? Call {office_line}.',
   '[{practice_name}: |][We are at {address}.|Our team will text you our address.] Need directions? [Call {office_line}.|Reply here and we will help.]'),
  ('insurance', 'en', '{practice_name} works with most dental insurance plans and offers payment options. Call {office_line} and our team will check your coverage or answer billing questions. {open_status}',
   '[{practice_name} works with most dental insurance plans and offers payment options.|We work with most dental insurance plans and offer payment options.] [Call {office_line} and our team|Reply here and our team] will check your coverage or answer billing questions. {open_status}'),
  ('opt_out', 'en', 'You are unsubscribed from {practice_name} texts and will receive no more messages. Reply START to resubscribe.',
   'You are unsubscribed from [{practice_name} texts|our texts] and will receive no more messages. Reply START to resubscribe.'),
  ('opt_in', 'en', 'You are subscribed to {practice_name} texts again. Reply HELP for help, STOP to unsubscribe.',
   'You are subscribed to [{practice_name} texts|our texts] again. Reply HELP for help, STOP to unsubscribe.'),
  ('help', 'en', '{practice_name}: for help call {office_line}. Msg & data rates may apply. Reply STOP to unsubscribe.',
   '[{practice_name}: for help|For help][ call {office_line}|, reply with your question and our team will get back to you]. Msg & data rates may apply. Reply STOP to unsubscribe.'),
  ('default', 'en', 'Thanks for your message to {practice_name}. {open_status} {next_open} For anything urgent call {office_line}.',
   'Thanks for your message[ to {practice_name}|]. {open_status} {next_open}[ For anything urgent call {office_line}.|]'),
  ('appointment', 'es', '¡Gracias por escribir a {practice_name}! Para hacer, cambiar o cancelar una cita llame al {office_line} o responda con el día y la hora que le convienen y le contestaremos. {open_status}',
   '¡Gracias por escribir[ a {practice_name}|]! Para hacer, cambiar o cancelar una cita [llame al {office_line} o responda|responda] con el día y la hora que le convienen y le contestaremos. {open_status}'),
  ('emergency', 'es', 'Si es una emergencia dental, llame ahora al {emergency_line}. {open_status} Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.',
   'Si es una emergencia dental, [llame ahora al {emergency_line}.|llame ahora a la oficina.] {open_status} Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.'),
  ('hours', 'es', '{practice_name}: {open_status} {next_open} Teléfono: {office_line}.',
   '[{practice_name}: |]{open_status} {next_open}[ Teléfono: {office_line}.|]'),
  ('location', 'es', '{practice_name} está en {address}. ¿Necesita indicaciones? Llame al {office_line}.',
   '[{practice_name}: |][Estamos en {address}.|Le enviaremos nuestra dirección por mensaje.] ¿Necesita indicaciones? [Llame al {office_line}.|Responda aquí y le ayudaremos.]'),
  ('insurance', 'es', '{practice_name} trabaja con la mayoría de los seguros dentales y ofrece opciones de pago. Llame al {office_line} y revisaremos su cobertura o su cuenta. {open_status}',
   '[{practice_name} trabaja con la mayoría de los seguros dentales y ofrece opciones de pago.|Trabajamos con la mayoría de los seguros dentales y ofrecemos opciones de pago.] [Llame al {office_line} y revisaremos|Responda aquí y revisaremos] su cobertura o su cuenta. {open_status}'),
  ('opt_out', 'es', 'Ya no recibirá mensajes de {practice_name}. Responda START para volver a suscribirse.',
   'Ya no recibirá mensajes de [{practice_name}|nuestra clínica]. Responda START para volver a suscribirse.'),
  ('opt_in', 'es', 'Está suscrito de nuevo a los mensajes de {practice_name}. Responda HELP para ayuda, STOP para cancelar.',
   'Está suscrito de nuevo a los mensajes de [{practice_name}|nuestra clínica]. Responda HELP para ayuda, STOP para cancelar.'),
  ('help', 'es', '{practice_name}: para ayuda llame al {office_line}. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.',
   '[{practice_name}: para ayuda|Para ayuda][ llame al {office_line}|, responda con su pregunta y le contestaremos]. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.'),
  ('default', 'es', 'Gracias por su mensaje a {practice_name}. {open_status} {next_open} Para algo urgente llame al {office_line}.',
   'Gracias por su mensaje[ a {practice_name}|]. {open_status} {next_open}[ Para algo urgente llame al {office_line}.|]')
) AS t(intent, language, old_text, new_text)
WHERE a.intent = t.intent AND a.language = t.language AND a.response_text = t.old_text;

-- Down Migration
UPDATE auto_responses a
SET response_text = t.new_text
FROM (VALUES
  ('appointment', 'en', 'Thanks for texting[ {practice_name}|]! To book, change or cancel an appointment, [call {office_line} or reply|reply] with the day and time that suit you and our team will get back to you. {open_status}',
   'Thanks for texting {practice_name}! To book, change or cancel an appointment, call {office_line} or reply with the day and time that suit you and our team will get back to you. {open_status}'),
  ('emergency', 'en', 'If this is a dental emergency, [call {emergency_line} now.|call the office now.] {open_status} If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.',
   'If this is a dental emergency, call {emergency_line} now. {open_status} If you have trouble breathing or swallowing, or swelling reaching your eye or neck, call 911.'),
  ('hours', 'en', '[{practice_name}: |]{open_status} {next_open}[ Office line: {office_line}.|]',
   '{practice_name}: {open_status} {next_open} Office line: {office_line}.'),
  ('location', 'en', '[{practice_name}: |][We are at {address}.|Our team will text you our address.] Need directions? [Call {office_line}.|Reply here and we will help.]',
   '{practice_name} is at {address}. Need directions? Call {office_line}.'),
  ('insurance', 'en', '[{practice_name} works with most dental insurance plans and offers payment options.|We work with most dental insurance plans and offer payment options.] [Call {office_line} and our team|Reply here and our team] will check your coverage or answer billing questions. {open_status}',
   '{practice_name} works with most dental insurance plans and offers payment options. Call {office_line} and our team will check your coverage or answer billing questions. {open_status}'),
  ('opt_out', 'en', 'You are unsubscribed from [{practice_name} texts|our texts] and will receive no more messages. Reply START to resubscribe.',
   'You are unsubscribed from {practice_name} texts and will receive no more messages. Reply START to resubscribe.'),
  ('opt_in', 'en', 'You are subscribed to [{practice_name} texts|our texts] again. Reply HELP for help, STOP to unsubscribe.',
   'You are subscribed to {practice_name} texts again. Reply HELP for help, STOP to unsubscribe.'),
  ('help', 'en', '[{practice_name}: for help|For help][ call {office_line}|, reply with your question and our team will get back to you]. Msg & data rates may apply. Reply STOP to unsubscribe.',
   '{practice_name}: for help call {office_line}. Msg & data rates may apply. Reply STOP to unsubscribe.'),
  ('default', 'en', 'Thanks for your message[ to {practice_name}|]. {open_status} {next_open}[ For anything urgent call {office_line}.|]',
   'Thanks for your message to {practice_name}. {open_status} {next_open} For anything urgent call {office_line}.'),
  ('appointment', 'es', '¡Gracias por escribir[ a {practice_name}|]! Para hacer, cambiar o cancelar una cita [llame al {office_line} o responda|responda] con el día y la hora que le convienen y le contestaremos. {open_status}',
   '¡Gracias por escribir a {practice_name}! Para hacer, cambiar o cancelar una cita llame al {office_line} o responda con el día y la hora que le convienen y le contestaremos. {open_status}'),
  ('emergency', 'es', 'Si es una emergencia dental, [llame ahora al {emergency_line}.|llame ahora a la oficina.] {open_status} Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.',
   'Si es una emergencia dental, llame ahora al {emergency_line}. {open_status} Si le cuesta respirar o tragar, o la hinchazón llega al ojo o al cuello, llame al 911.'),
  ('hours', 'es', '[{practice_name}: |]{open_status} {next_open}[ Teléfono: {office_line}.|]',
   '{practice_name}: {open_status} {next_open} Teléfono: {office_line}.'),
  ('location', 'es', '[{practice_name}: |][Estamos en {address}.|Le enviaremos nuestra dirección por mensaje.] ¿Necesita indicaciones? [Llame al {office_line}.|Responda aquí y le ayudaremos.]',
   '{practice_name} está en {address}. ¿Necesita indicaciones? Llame al {office_line}.'),
  ('insurance', 'es', '[{practice_name} trabaja con la mayoría de los seguros dentales y ofrece opciones de pago.|Trabajamos con la mayoría de los seguros dentales y ofrecemos opciones de pago.] [Llame al {office_line} y revisaremos|Responda aquí y revisaremos] su cobertura o su cuenta. {open_status}',
   '{practice_name} trabaja con la mayoría de los seguros dentales y ofrece opciones de pago. Llame al {office_line} y revisaremos su cobertura o su cuenta. {open_status}'),
  ('opt_out', 'es', 'Ya no recibirá mensajes de [{practice_name}|nuestra clínica]. Responda START para volver a suscribirse.',
   'Ya no recibirá mensajes de {practice_name}. Responda START para volver a suscribirse.'),
  ('opt_in', 'es', 'Está suscrito de nuevo a los mensajes de [{practice_name}|nuestra clínica]. Responda HELP para ayuda, STOP para cancelar.',
   'Está suscrito de nuevo a los mensajes de {practice_name}. Responda HELP para ayuda, STOP para cancelar.'),
  ('help', 'es', '[{practice_name}: para ayuda|Para ayuda][ llame al {office_line}|, responda con su pregunta y le contestaremos]. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.',
   '{practice_name}: para ayuda llame al {office_line}. Pueden aplicarse cargos por mensajes y datos. Responda STOP para cancelar.'),
  ('default', 'es', 'Gracias por su mensaje[ a {practice_name}|]. {open_status} {next_open}[ Para algo urgente llame al {office_line}.|]',
   'Gracias por su mensaje a {practice_name}. {open_status} {next_open} Para algo urgente llame al {office_line}.')
) AS t(intent, language, old_text, new_text)
WHERE a.intent = t.intent AND a.language = t.language AND a.response_text = t.old_text;
