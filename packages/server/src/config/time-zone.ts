import { z } from 'zod';

/** The zone Intl reads a name as, or undefined when it knows no such zone. */
export function resolvedZone(tz: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

// Names of UTC itself, kept although they have no '/'.
const UTC_NAMES = new Set(['utc', 'gmt', 'uct', 'zulu', 'universal', 'greenwich']);

// Intl takes abbreviations as zones (CST is America/Chicago, IST India, BST Bangladesh, EST a fixed
// -05:00 with no daylight saving), where people mean others, and log lines refuse them as ambiguous.
// An abbreviation: letters only, in one case (IANA's backward names such as Japan are capitalised).
const isAbbreviation = (tz: string) => /^([A-Z]+|[a-z]+)$/.test(tz) && !UTC_NAMES.has(tz.toLowerCase());

/**
 * An IANA time zone name, as Intl knows it, other than an abbreviation. A leaf module, imported by
 * path from the source and workflow schemas too: config/index.ts loads sources/, so going through
 * it would be a cycle.
 */
export const timeZoneSchema = z.string().superRefine((tz, ctx) => {
  const zone = resolvedZone(tz);
  // The value named: 'timezone: is not an IANA time zone' left a typo (Europe/Berln) to be found.
  if (zone === undefined)
    ctx.addIssue({
      code: 'custom',
      message: tz.trim()
        ? `"${tz}" is not an IANA time zone such as UTC, Europe/Berlin or Asia/Tokyo`
        : 'is empty (an unset variable?); give an IANA time zone such as UTC, Europe/Berlin or Asia/Tokyo',
    });
  else if (isAbbreviation(tz))
    ctx.addIssue({
      code: 'custom',
      message: `"${tz}" is a zone abbreviation, which names no one zone (it would be read as ${zone}); write an IANA name such as America/Chicago or Asia/Kolkata`,
    });
});

/**
 * Whether two names are the same zone (CST, America/Chicago), so a mart built under an abbreviation
 * inlet now refuses builds on under the IANA name it suggests, not only after a rebuild.
 */
export const sameTimeZone = (a: string, b: string): boolean =>
  a === b || (resolvedZone(a) !== undefined && resolvedZone(a) === resolvedZone(b));

/** The name to write back for a zone: an abbreviation's IANA zone, any other name as it is. */
export const timeZoneToWrite = (tz: string): string => (isAbbreviation(tz) ? (resolvedZone(tz) ?? tz) : tz);
