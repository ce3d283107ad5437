// Intent classifier for patient texts (English and Spanish). Pure and synchronous: the lexicon is compiled once
// (and once per set of database rules), then each call is a single pass over the words plus a fixed list of
// word-order-free rules. No regular expressions on the hot path.

import {
  BUILTIN_PRIORITY,
  COMBOS,
  COMMON_WORDS,
  CONCEPTS,
  type ComboDef,
  type ConceptDef,
  FILLERS,
  FUNCTION_WORDS,
  INTENTS,
  type Intent,
  type Language,
  NEGATION_BRIDGES,
  NEGATORS,
  type NegationKind,
  SPANISH_WHOLE_MESSAGE,
  WHOLE_MESSAGE,
} from './lexicon.js';
import { squeeze, tokenize, tokenizeTerm } from './normalize.js';

export type { Intent, Language } from './lexicon.js';
export { INTENTS } from './lexicon.js';

/** A reply rule as stored in `auto_responses`; its keywords and phrases extend the built-in lexicon. */
export interface IntentRule {
  intent: Intent;
  language: Language;
  keywords: string[];
  phrases?: string[];
  priority: number;
  enabled: boolean;
  responseText: string;
}

export interface Classification {
  intent: Intent;
  language: Language;
  /** 0..1: how sure the classifier is of `intent` (for `default`, how sure nothing else fits). */
  confidence: number;
  /** The matched words, phrases (`a+b` for word-order-free rules, `typo~word` for fuzzy matches). */
  evidence: string[];
}

export interface ClassifyOptions {
  /** Enabled rules add keywords and phrases; their priority orders intents that tie. */
  rules?: readonly IntentRule[];
  /** The sender has opted out: a bare YES (or SI) then means opt_in. */
  optedOut?: boolean;
}

/** Intents whose rule keywords count only as the whole message ("STOP"), never inside a sentence. */
const WHOLE_ONLY_INTENTS: ReadonlySet<Intent> = new Set<Intent>(['opt_out', 'opt_in', 'help']);

const N_INTENTS = INTENTS.length;
const INTENT_INDEX = new Map<Intent, number>(INTENTS.map((intent, i) => [intent, i]));
const I_OPT_OUT = INTENT_INDEX.get('opt_out')!;
const I_EMERGENCY = INTENT_INDEX.get('emergency')!;
const I_DEFAULT = INTENT_INDEX.get('default')!;

const OPT_OUT_THRESHOLD = 2.5;
const INTENT_THRESHOLD = 1;
const MIN_CONFIDENCE = 0.25;
const MAX_FUZZY_LENGTH = 24;
/** A whole-message keyword with its fillers ("stop now please thank you") is never longer than this. */
const MAX_WHOLE_MESSAGE_WORDS = 8;
const MIN_FUZZY_LENGTH = 6;

const LANG_NONE = 0;
const LANG_EN = 1;
const LANG_ES = 2;

interface Entry {
  term: string;
  concepts: number[];
  lang: number;
}

/** A whole-message keyword; a Spanish one ("PARAR", "AYUDA") also settles the reply language. */
interface WholeEntry {
  intent: Intent;
  onlyWhenOptedOut: boolean;
  spanish: boolean;
}

interface PhraseNode {
  next: Map<string, PhraseNode>;
  entry: Entry | null;
}

interface CompiledCombo {
  all: number[];
  none: number[];
  intent: number;
  weight: number;
  window: number;
  label: string;
}

interface Compiled {
  conceptNames: string[];
  /** Flattened [concept][intent] weights. */
  weights: Float64Array;
  negation: (ReadonlySet<string> | null)[];
  negatedTarget: Int32Array;
  single: Map<string, Entry>;
  squeezed: Map<string, Entry>;
  /** Fuzzy candidates by squeezed length and first letter (see fuzzyBucketKey). */
  fuzzyBuckets: Map<number, { key: string; entry: Entry }[]>;
  phrases: Map<string, PhraseNode>;
  combos: CompiledCombo[];
  whole: Map<string, WholeEntry>;
  priority: Float64Array;
  // Per-call scratch space, reused: classification is synchronous, so one set per compiled lexicon is enough.
  stamp: Int32Array;
  firstPos: Int32Array;
  lastPos: Int32Array;
  firstTerm: string[];
  found: number[];
  generation: number;
}

const FILLER_SET: ReadonlySet<string> = new Set(FILLERS);
const COMMON_SET: ReadonlySet<string> = new Set(COMMON_WORDS);
const BRIDGE_SET: ReadonlySet<string> = new Set(NEGATION_BRIDGES);
const NEGATOR_SETS: Record<NegationKind, ReadonlySet<string>> = {
  plain: new Set(NEGATORS.plain),
  stopEn: new Set(NEGATORS.stopEn),
  stopEs: new Set(NEGATORS.stopEs),
};
const FUNCTION_LANG = new Map<string, number>();
for (const w of FUNCTION_WORDS.en) FUNCTION_LANG.set(w, LANG_EN);
for (const w of FUNCTION_WORDS.es) FUNCTION_LANG.set(w, FUNCTION_LANG.has(w) ? LANG_NONE : LANG_ES);

function compile(
  concepts: ConceptDef[],
  combos: ComboDef[],
  rules: readonly IntentRule[] | undefined,
): Compiled {
  const conceptNames: string[] = [];
  const conceptIndex = new Map<string, number>();
  const indexOf = (name: string): number => {
    let i = conceptIndex.get(name);
    if (i === undefined) {
      i = conceptNames.length;
      conceptNames.push(name);
      conceptIndex.set(name, i);
    }
    return i;
  };
  const defs: ConceptDef[] = [...concepts];
  const wholeTerms: { intent: Intent; terms: string[]; onlyWhenOptedOut?: boolean; spanish?: boolean }[] = [
    ...WHOLE_MESSAGE,
  ];
  const priority = new Float64Array(N_INTENTS);
  for (const intent of INTENTS) priority[INTENT_INDEX.get(intent)!] = BUILTIN_PRIORITY[intent];
  const rulePriority = new Map<Intent, number>();

  for (const rule of rules ?? []) {
    if (!rule?.enabled || !INTENT_INDEX.has(rule.intent)) continue;
    const language: Language = rule.language === 'es' ? 'es' : 'en';
    const keywords = (rule.keywords ?? []).filter((k) => typeof k === 'string');
    const phrases = (rule.phrases ?? []).filter((p) => typeof p === 'string');
    if (WHOLE_ONLY_INTENTS.has(rule.intent)) {
      wholeTerms.push({ intent: rule.intent, terms: keywords, spanish: language === 'es' });
    } else if (keywords.length > 0) {
      // Each rule's words are a concept of their own (numbered by their place), so a keyword weighs 2 and a
      // phrase 2.5 whatever other rules there are.
      defs.push({
        id: `rule:${defs.length}:${rule.intent}:${language}`,
        [language]: keywords,
        weights: { [rule.intent]: 2 },
      });
    }
    if (phrases.length > 0) {
      defs.push({
        id: `rule-phrase:${defs.length}:${rule.intent}:${language}`,
        [language]: phrases,
        weights: { [rule.intent]: 2.5 },
      });
    }
    if (Number.isFinite(rule.priority)) {
      rulePriority.set(rule.intent, Math.max(rulePriority.get(rule.intent) ?? -Infinity, rule.priority));
    }
  }
  for (const [intent, p] of rulePriority) priority[INTENT_INDEX.get(intent)!] = p;

  for (const def of defs) indexOf(def.id);
  for (const combo of combos) for (const name of [...combo.all, ...(combo.none ?? [])]) indexOf(name);
  for (const def of defs) if (def.negatedId) indexOf(def.negatedId);
  const n = conceptNames.length;

  const weights = new Float64Array(n * N_INTENTS);
  const negation: (ReadonlySet<string> | null)[] = new Array(n).fill(null);
  const negatedTarget = new Int32Array(n).fill(-1);
  const single = new Map<string, Entry>();
  const phrases = new Map<string, PhraseNode>();

  const addTerm = (raw: string, concept: number, lang: number): void => {
    const words = tokenizeTerm(raw);
    if (words.length === 0) return;
    const term = words.join(' ');
    let entry: Entry | null;
    if (words.length === 1) {
      entry = single.get(term) ?? null;
      if (entry === null) {
        entry = { term, concepts: [], lang };
        single.set(term, entry);
      }
    } else {
      let node: PhraseNode | undefined = phrases.get(words[0]!);
      if (node === undefined) {
        node = { next: new Map(), entry: null };
        phrases.set(words[0]!, node);
      }
      for (let i = 1; i < words.length; i++) {
        let child: PhraseNode | undefined = node.next.get(words[i]!);
        if (child === undefined) {
          child = { next: new Map(), entry: null };
          node.next.set(words[i]!, child);
        }
        node = child;
      }
      if (node.entry === null) node.entry = { term, concepts: [], lang };
      entry = node.entry;
    }
    if (!entry.concepts.includes(concept)) entry.concepts.push(concept);
    if (entry.lang !== lang) entry.lang = LANG_NONE;
  };

  for (const def of defs) {
    const c = indexOf(def.id);
    for (const [intent, w] of Object.entries(def.weights ?? {})) {
      const at = c * N_INTENTS + INTENT_INDEX.get(intent as Intent)!;
      weights[at] = (weights[at] ?? 0) + (w ?? 0);
    }
    if (def.negation) {
      negation[c] = NEGATOR_SETS[def.negation];
      if (def.negatedId) negatedTarget[c] = indexOf(def.negatedId);
    }
    for (const t of def.en ?? []) addTerm(t, c, LANG_EN);
    for (const t of def.es ?? []) addTerm(t, c, LANG_ES);
    for (const t of def.any ?? []) addTerm(t, c, LANG_NONE);
  }

  const squeezed = new Map<string, Entry>();
  const fuzzyBuckets = new Map<number, { key: string; entry: Entry }[]>();
  for (const [term, entry] of single) {
    if (term.length < 5) continue;
    const key = squeeze(term);
    if (!squeezed.has(key)) squeezed.set(key, entry);
    if (key.length >= MIN_FUZZY_LENGTH && !/\d/.test(key)) {
      const bucketKey = fuzzyBucketKey(key.length, key.charCodeAt(0));
      const bucket = fuzzyBuckets.get(bucketKey) ?? [];
      bucket.push({ key, entry });
      fuzzyBuckets.set(bucketKey, bucket);
    }
  }

  const compiledCombos: CompiledCombo[] = combos.map((combo) => ({
    all: combo.all.map(indexOf),
    none: (combo.none ?? []).map(indexOf),
    intent: INTENT_INDEX.get(combo.intent)!,
    weight: combo.weight,
    window: combo.window ?? Number.POSITIVE_INFINITY,
    label: combo.label,
  }));

  const spanishWhole = new Set(SPANISH_WHOLE_MESSAGE.map((term) => tokenizeTerm(term).join(' ')));
  const whole = new Map<string, WholeEntry>();
  for (const group of wholeTerms) {
    for (const raw of group.terms) {
      const key = tokenizeTerm(raw).join(' ');
      if (key.length > 0 && !whole.has(key)) {
        whole.set(key, {
          intent: group.intent,
          onlyWhenOptedOut: group.onlyWhenOptedOut === true,
          spanish: group.spanish === true || spanishWhole.has(key),
        });
      }
    }
  }

  return {
    conceptNames,
    weights,
    negation,
    negatedTarget,
    single,
    squeezed,
    fuzzyBuckets,
    phrases,
    combos: compiledCombos,
    whole,
    priority,
    stamp: new Int32Array(conceptNames.length),
    firstPos: new Int32Array(conceptNames.length),
    lastPos: new Int32Array(conceptNames.length),
    firstTerm: new Array(conceptNames.length).fill(''),
    found: [],
    generation: 0,
  };
}

// Compiled on first use: a webhook classifies with the practice's rules (compiled with them below), so
// loading the module costs nothing and the built-in-only lexicon is built only where it is used.
let base: Compiled | undefined;
const compiledByRules = new WeakMap<readonly IntentRule[], Compiled>();

/** The compiled lexicon for these rules; exported for the tests of its per-call counter only. */
export function lexiconFor(rules: readonly IntentRule[] | undefined): Compiled {
  if (!rules || rules.length === 0) {
    base ??= compile(CONCEPTS, COMBOS, undefined);
    return base;
  }
  let compiled = compiledByRules.get(rules);
  if (compiled === undefined) {
    compiled = compile(CONCEPTS, COMBOS, rules);
    compiledByRules.set(rules, compiled);
  }
  return compiled;
}

/** Compiles the lexicon for these rules ahead of the first `classify` with them; returns the rules. */
export function prepareClassifier<T extends readonly IntentRule[] | undefined>(rules: T): T {
  lexiconFor(rules);
  return rules;
}

/** Typo candidates share the first letter (changing it makes other words too easily: "saying" / "paying"). */
function fuzzyBucketKey(length: number, firstChar: number): number {
  return length * 65536 + firstChar;
}

// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), bounded by `max`.
let rowA = new Int32Array(MAX_FUZZY_LENGTH + 3);
let rowB = new Int32Array(MAX_FUZZY_LENGTH + 3);
let rowC = new Int32Array(MAX_FUZZY_LENGTH + 3);

/** Exported for its own tests; the classifier calls it with words of at most MAX_FUZZY_LENGTH + 2 letters. */
export function editDistance(a: string, b: string, max: number): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > max) return max + 1;
  let prev2 = rowA;
  let prev = rowB;
  let cur = rowC;
  for (let j = 0; j <= lb; j++) prev[j] = j;
  for (let i = 1; i <= la; i++) {
    cur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      const cost = ca === cb ? 0 : 1;
      let v = prev[j - 1]! + cost;
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      if (del < v) v = del;
      if (ins < v) v = ins;
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        const tr = prev2[j - 2]! + 1;
        if (tr < v) v = tr;
      }
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    const t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  const d = prev[lb]!;
  rowA = prev2;
  rowB = prev;
  rowC = cur;
  return d;
}

/** Edits allowed for a word of this length: none for short words, where one edit makes another word. */
function allowedEdits(length: number): number {
  return length >= 8 ? 2 : length >= MIN_FUZZY_LENGTH ? 1 : 0;
}

function fuzzyLookup(lex: Compiled, key: string): Entry | null {
  const len = key.length;
  const max = allowedEdits(len);
  if (max === 0 || len > MAX_FUZZY_LENGTH) return null;
  let best: Entry | null = null;
  let bestDistance = max + 1;
  const first = key.charCodeAt(0);
  for (let l = len - max; l <= len + max; l++) {
    const bucket = lex.fuzzyBuckets.get(fuzzyBucketKey(l, first));
    if (bucket === undefined) continue;
    for (const candidate of bucket) {
      const k = candidate.key;
      // Never 0: the buckets hold words of MIN_FUZZY_LENGTH letters or more, and max is 1 or 2 here.
      const limit = Math.min(max, allowedEdits(l));
      const d = editDistance(key, k, limit);
      if (d <= limit && d < bestDistance) {
        best = candidate.entry;
        bestDistance = d;
        if (d === 1) break;
      }
    }
  }
  return best;
}

function isDigits(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Set by lookupWord: false for an exact match, true for a squeezed or typo match (evidence shows "typo~word"). */
let lookupWasInexact = false;

function lookupWord(lex: Compiled, word: string): Entry | null {
  lookupWasInexact = false;
  const exact = lex.single.get(word);
  if (exact !== undefined) return exact;
  if (word.length < 4 || COMMON_SET.has(word) || FUNCTION_LANG.has(word) || isDigits(word)) return null;
  const key = squeeze(word);
  lookupWasInexact = true;
  return lex.squeezed.get(key) ?? fuzzyLookup(lex, key);
}

function isNegated(tokens: string[], at: number, negators: ReadonlySet<string>): boolean {
  const prev = tokens[at - 1];
  if (prev === undefined) return false;
  if (negators.has(prev)) return true;
  if (!BRIDGE_SET.has(prev)) return false;
  const prev2 = tokens[at - 2];
  return prev2 !== undefined && negators.has(prev2);
}

function record(lex: Compiled, tokens: string[], entry: Entry, at: number, via: string): void {
  for (const c0 of entry.concepts) {
    let c = c0;
    const negators = lex.negation[c]!; // every concept has its slot: null when nothing negates it
    if (negators !== null && isNegated(tokens, at, negators)) {
      c = lex.negatedTarget[c]!;
      if (c < 0) continue;
    }
    if (lex.stamp[c] !== lex.generation) {
      lex.stamp[c] = lex.generation;
      lex.firstTerm[c] = via;
      lex.found.push(c);
      lex.firstPos[c] = at;
    }
    lex.lastPos[c] = at;
  }
}

function hasAccentMarks(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // ¿ ¡ ñ Ñ á é í ó ú
    if (c === 0xbf || c === 0xa1 || c === 0xf1 || c === 0xd1 || c === 0xe1 || c === 0xe9 || c === 0xed)
      return true;
    if (c === 0xf3 || c === 0xfa) return true;
  }
  return false;
}

function wholeMessageKey(tokens: string[]): string {
  let key = '';
  let last = '';
  for (const t of tokens) {
    if (FILLER_SET.has(t) || t === last) continue;
    key = key.length === 0 ? t : `${key} ${t}`;
    last = t;
  }
  return key;
}

const scores = new Float64Array(N_INTENTS);
const comboHits: CompiledCombo[] = [];

function languageOf(en: number, es: number, text: string): Language {
  if (es > en) return 'es';
  if (en > es) return 'en';
  return hasAccentMarks(text) ? 'es' : 'en';
}

/** Classify one patient message. Never throws; anything unrecognisable is `default`. */
export function classify(text: string, options?: ClassifyOptions): Classification {
  const input = typeof text === 'string' ? text : '';
  const lex = lexiconFor(options?.rules);
  const tokens = tokenize(input);

  // Language votes and concept extraction in one pass.
  lex.generation = (lex.generation + 1) | 0;
  if (lex.generation === 0) {
    lex.stamp.fill(0);
    lex.generation = 1;
  }
  lex.found.length = 0;
  let en = 0;
  let es = 0;
  const count = tokens.length;
  for (let i = 0; i < count; i++) {
    const word = tokens[i]!;
    const fl = FUNCTION_LANG.get(word);
    if (fl === LANG_EN) en++;
    else if (fl === LANG_ES) es++;

    // Longest phrase starting here wins over the single word.
    let node = lex.phrases.get(word);
    let phraseEntry: Entry | null = null;
    let phraseEnd = i;
    for (let j = i + 1; node !== undefined && j < count; j++) {
      node = node.next.get(tokens[j]!);
      if (node === undefined) break;
      if (node.entry !== null) {
        phraseEntry = node.entry;
        phraseEnd = j;
      }
    }
    if (phraseEntry !== null) {
      record(lex, tokens, phraseEntry, i, phraseEntry.term);
      if (phraseEntry.lang === LANG_EN) en += 2;
      else if (phraseEntry.lang === LANG_ES) es += 2;
      for (let j = i + 1; j <= phraseEnd; j++) {
        const f = FUNCTION_LANG.get(tokens[j]!);
        if (f === LANG_EN) en++;
        else if (f === LANG_ES) es++;
      }
      i = phraseEnd;
      continue;
    }
    const hit = lookupWord(lex, word);
    if (hit !== null) {
      record(lex, tokens, hit, i, lookupWasInexact ? `${word}~${hit.term}` : hit.term);
      if (fl === undefined) {
        if (hit.lang === LANG_EN) en++;
        else if (hit.lang === LANG_ES) es++;
      }
    }
  }
  const language = languageOf(en, es, input);

  // Whole-message keywords (STOP, HELP, START, YES after an opt-out) settle it at once.
  const whole = count <= MAX_WHOLE_MESSAGE_WORDS ? lex.whole.get(wholeMessageKey(tokens)) : undefined;
  if (whole !== undefined && (!whole.onlyWhenOptedOut || options?.optedOut === true)) {
    return {
      intent: whole.intent,
      language: whole.spanish ? 'es' : language,
      confidence: 0.99,
      evidence: [`whole:${tokens.join(' ')}`],
    };
  }

  scores.fill(0);
  for (const c of lex.found) {
    const base = c * N_INTENTS;
    for (let k = 0; k < N_INTENTS; k++) scores[k]! += lex.weights[base + k]!;
  }
  comboHits.length = 0;
  for (const combo of lex.combos) {
    let ok = true;
    // Closest the concepts can be: latest first occurrence minus earliest last occurrence (a lower bound).
    let latestFirst = Number.NEGATIVE_INFINITY;
    let earliestLast = Number.POSITIVE_INFINITY;
    for (const c of combo.all) {
      if (lex.stamp[c] !== lex.generation) {
        ok = false;
        break;
      }
      const f = lex.firstPos[c]!;
      const l = lex.lastPos[c]!;
      if (f > latestFirst) latestFirst = f;
      if (l < earliestLast) earliestLast = l;
    }
    if (!ok || latestFirst - earliestLast > combo.window) continue;
    for (const c of combo.none) {
      if (lex.stamp[c] === lex.generation) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    scores[combo.intent]! += combo.weight;
    comboHits.push(combo);
  }

  let winner = I_DEFAULT;
  let confidence: number;
  const optOut = scores[I_OPT_OUT]!;
  const emergency = scores[I_EMERGENCY]!;
  if (optOut >= OPT_OUT_THRESHOLD) {
    winner = I_OPT_OUT;
    confidence = Math.max(0.9, optOut / (optOut + 0.5));
  } else if (emergency >= INTENT_THRESHOLD) {
    winner = I_EMERGENCY;
    confidence = Math.max(0.6, emergency / (emergency + 1));
  } else {
    let best = -1;
    let bestScore = 0;
    let second = 0;
    for (let k = 0; k < N_INTENTS; k++) {
      if (k === I_OPT_OUT || k === I_EMERGENCY || k === I_DEFAULT) continue;
      const s = scores[k]!;
      if (s <= 0) continue;
      if (best < 0 || s > bestScore || (s === bestScore && lex.priority[k]! > lex.priority[best]!)) {
        if (best >= 0) second = Math.max(second, bestScore);
        best = k;
        bestScore = s;
      } else if (s > second) {
        second = s;
      }
    }
    const top = Math.max(bestScore, emergency, 0);
    confidence = Math.min(0.99, 1 - top / (2 * INTENT_THRESHOLD));
    if (best >= 0 && bestScore >= INTENT_THRESHOLD) {
      const c = (bestScore / (bestScore + 1)) * (0.5 + (0.5 * (bestScore - second)) / bestScore);
      if (c >= MIN_CONFIDENCE) {
        winner = best;
        confidence = c;
      }
    }
  }

  const intent = INTENTS[winner]!;
  const evidence: string[] = [];
  if (winner !== I_DEFAULT) {
    for (const c of lex.found) {
      if (lex.weights[c * N_INTENTS + winner]! > 0) evidence.push(lex.firstTerm[c]!);
    }
    for (const combo of comboHits) {
      if (combo.intent === winner && combo.weight > 0) evidence.push(combo.label);
    }
  }
  return { intent, language, confidence: Math.round(confidence * 1000) / 1000, evidence };
}
