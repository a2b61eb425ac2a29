import { z } from 'zod';

/**
 * An IANA time zone name, as Intl knows it. A leaf module, imported by path from the source and
 * workflow schemas too: config/index.ts loads sources/, so going through it would be a cycle.
 */
export const timeZoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not an IANA time zone such as UTC or Asia/Tokyo' },
);
