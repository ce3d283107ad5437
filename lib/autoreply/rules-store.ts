import type { Queryable } from '../db/index.js';
import { logger } from '../observability.js';
import type { IntentRule } from './classifier.js';
import type { Intent, Language } from './lexicon.js';

interface RuleRow {
  intent: Intent;
  language: Language;
  keywords: string[];
  phrases: string[];
  priority: number;
  enabled: boolean;
  response_text: string;
}

/** How long a container keeps the rules before reading `auto_responses` again. */
export const RULES_TTL_MS = Number(process.env.AUTO_REPLY_RULES_TTL_MS ?? 60_000);

/** `key` is the rows as read: a refresh that finds them unchanged keeps the same array (no recompile). */
let cached: { at: number; rules: readonly IntentRule[]; key: string } | undefined;
let loading: Promise<readonly IntentRule[]> | undefined;

/**
 * The practice's rules from `auto_responses`, cached per container for RULES_TTL_MS. The same array is
 * returned until the next refresh (the classifier compiles rules once per array). If the database cannot be
 * read, the last rules stay in use, or none: the built-in vocabulary and replies still answer.
 */
export async function loadAutoReplyRules(db: Queryable, now = Date.now()): Promise<readonly IntentRule[]> {
  if (cached && now - cached.at < RULES_TTL_MS) return cached.rules;
  loading ??= db
    .query<RuleRow>(
      'SELECT intent, language, keywords, phrases, priority, enabled, response_text FROM auto_responses ORDER BY id',
    )
    .then(({ rows }) => {
      // The classifier compiles its lexicon once per rules array (tens of ms): unchanged rules keep theirs.
      const key = JSON.stringify(rows);
      if (cached?.key === key) {
        cached = { ...cached, at: now };
        return cached.rules;
      }
      const rules = rows.map((row) => ({
        intent: row.intent,
        language: row.language,
        keywords: row.keywords,
        phrases: row.phrases,
        priority: row.priority,
        enabled: row.enabled,
        responseText: row.response_text,
      }));
      cached = { at: now, rules, key };
      return rules as readonly IntentRule[];
    })
    .catch((error: Error) => {
      logger.warn('auto-reply rules unavailable; keeping the last ones', { error: error.message });
      return cached?.rules ?? [];
    })
    .finally(() => {
      loading = undefined;
    });
  return loading;
}

/** Tests and operators editing rules drop the cache. */
export function clearAutoReplyRulesCache(): void {
  cached = undefined;
}
