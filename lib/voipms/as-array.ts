/**
 * VoIP.ms answers a one-row list as a bare object instead of a one-element array (and an empty list
 * as a missing field). Every list field goes through this before use.
 */
export function asArray<T>(value: T | T[] | null | undefined): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
