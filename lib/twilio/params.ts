import * as z from 'zod/mini';
import { BadRequestError } from '../http/errors.js';
import { firstValues, type Params } from '../http/request.js';

/**
 * Validates Twilio form parameters against a schema of required fields; unknown parameters are accepted
 * and ignored (Twilio adds new ones over time, and they still count in the signature).
 */
export function parseTwilio<S extends z.ZodMiniType>(schema: S, fields: Params): z.infer<S> {
  const result = schema.safeParse(firstValues(fields));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  throw new BadRequestError(
    issue.code === 'invalid_type' ? `${field} is required` : `${field}: ${issue.message}`,
  );
}

export const sid = (prefix: string) => z.string().check(z.regex(new RegExp(`^${prefix}[0-9a-zA-Z]{32}$`)));
export const optionalInt = z.optional(z.string().check(z.regex(/^-?\d+$/)));
