/**
 * One spelling per address: "é" sent as one code point (NFC) or as "e" plus a combining accent (NFD) is the same
 * email to a person, so it must be the same account. Stored and looked up in NFC, as RFC 6532 recommends for
 * internationalized email; the monolith and the services normalize with this same function.
 */
export const normalizeEmail = (email: string): string => email.normalize('NFC');

/** What the unique index compares (`lower(email)`): for lookups by email. */
export const emailLookupKey = (email: string): string => normalizeEmail(email.trim()).toLowerCase();
