import { vi } from 'vitest';

/** Counts the Intl date formatters made from here on (each still a real one); undo with vi.restoreAllMocks(). */
export function watchIntlFormatters() {
  const Real = Intl.DateTimeFormat;
  // A function declaration: the spy is called with `new`, which an arrow function refuses.
  function realFormatter(...args: ConstructorParameters<typeof Intl.DateTimeFormat>) {
    return new Real(...args);
  }
  return vi
    .spyOn(Intl, 'DateTimeFormat')
    .mockImplementation(realFormatter as unknown as typeof Intl.DateTimeFormat);
}
