// Text that comes from outside (a provider's error text, an operator's reason, anything read back from the
// store) is made safe here before it reaches an e-mail subject or header, or a WhatsApp alert: control
// characters collapse into one space, so that a "\r\nBcc: x@evil" cannot start a header line of its own,
// and the length is bounded.

/**
 * C0 controls and DEL, C1 controls (NEL U+0085 among them), the Unicode line and paragraph separators, and
 * the bidirectional controls that reorder what a reader sees: the marks (U+061C, U+200E, U+200F), the
 * embeddings and overrides (U+202A–U+202E) and the isolates (U+2066–U+2069).
 */
export const CONTROL_CHARACTER =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose.
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const CONTROL_RUNS = new RegExp(`${CONTROL_CHARACTER.source}+`, 'gu');

/** Mail clients show about this much of a subject; SES would take more. */
export const EMAIL_SUBJECT_MAX_LENGTH = 200;

/** `text` on one line: every run of control characters becomes one space, then at most `maxLength` characters. */
export function oneLine(text: string, maxLength: number): string {
  const flat = text.replace(CONTROL_RUNS, ' ').replace(/ {2,}/g, ' ').trim();
  return bounded(flat, maxLength);
}

/** At most `maxLength` characters (code points, so that no emoji is cut in half), ending in "…" when cut. */
export function bounded(text: string, maxLength: number): string {
  const characters = Array.from(text);
  if (characters.length <= maxLength) return text;
  return `${characters
    .slice(0, Math.max(0, maxLength - 1))
    .join('')
    .trimEnd()}…`;
}
