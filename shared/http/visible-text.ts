// Free text a person will read on WhatsApp (a title, a message, a name): something must be visible, and nothing
// may steer the display or a log. A message of only "\u0000", of zero-width spaces, or of bidi overrides would
// otherwise be accepted, sent and shown as an empty bubble (or reorder what follows it).
import * as z from 'zod';

/** C0 controls but tab and newline (CR is only accepted in CRLF, which becomes LF), DEL, and the C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;
/** Bidi embeddings and overrides (U+202A–202E) and isolates (U+2066–2069): they reorder the text around them. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
/** A UTF-16 surrogate without its pair (JSON can carry "\ud800"): not a character at all. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * A visible character: a letter, digit, punctuation or symbol (emoji are symbols) of any script. Marks only
 * count on a base character, and spaces, format characters (zero-width spaces and joiners, U+200B–200F,
 * U+2060–2064, U+FEFF, soft hyphen, U+180E), variation selectors, private-use and unassigned code points never
 * count. Nor do the letters and symbols that are drawn blank: the Hangul fillers (U+115F, U+1160, U+3164,
 * U+FFA0), the blank Braille pattern (U+2800) and the null notehead (U+1D159), known ways to send "nothing".
 */
const VISIBLE = /(?![\u115F\u1160\u3164\uFFA0\u2800\u{1D159}])[\p{L}\p{N}\p{P}\p{S}]/u;

const codePoint = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** What is wrong with free text (already trimmed), or undefined; the message names the offending code point. */
export function textProblem(text: string): string | undefined {
  const control = CONTROL.exec(text);
  if (control) {
    return `must not contain control characters (${codePoint(control[0])}); only newline and tab are accepted`;
  }
  const bidi = BIDI_CONTROL.exec(text);
  if (bidi) return `must not contain bidirectional embedding, override or isolate characters (${codePoint(bidi[0])})`;
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (it contains an unpaired surrogate)';
  if (!VISIBLE.test(text)) return 'must contain at least one visible character (a letter, digit, punctuation or emoji)';
  return undefined;
}

/**
 * A text field of at most `max` characters with something visible in it. CRLF (what Windows sends) becomes LF,
 * then the ends are trimmed; what is stored and sent is that text.
 */
export const visibleText = (max: number) =>
  z
    .string()
    .overwrite((text) => text.replace(/\r\n/g, '\n'))
    .trim()
    .max(max)
    .superRefine((text, ctx) => {
      const problem = textProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
