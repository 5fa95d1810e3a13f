// Who the alerts go to: in AWS a Secrets Manager secret {"email": "...", "phone": "..."}, so that the admin's
// address and phone are in neither the template nor the functions' configuration; locally ADMIN_EMAIL /
// ADMIN_PHONE. The secret is cached for a short while only (Powertools Parameters), as the WaChap credentials
// are: an address changed in the secret reaches warm functions (the provider probe stays warm for days).
// Each field is checked on its own: a malformed phone stops the WhatsApp alerts, with an error log naming the
// field, and the e-mails still go; nothing here throws, so a bad secret never stops the health check.
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import type { AdminContacts, AdminContactsSource } from '../../application/ports.js';
import { normalisePhone } from '../../domain/phone.js';
import { type Log, silentLog } from '../../observability/logger.js';
import { awsErrorName } from '../wachap/credentials.js';

/** What the stack puts in the secret until the operator fills it in. */
export const ADMIN_CONTACTS_PLACEHOLDER = 'SET-AFTER-DEPLOY';
const EXPECTED = 'expected {"email": "admin@example.com", "phone": "+22370123456"}';

export interface AdminContactsConfig {
  ADMIN_CONTACTS_SECRET_ARN?: string | undefined;
  ADMIN_CONTACTS_MAX_AGE_SECONDS: number;
  /** Already validated and normalised by the function's configuration (alertEnv). */
  ADMIN_EMAIL?: string | undefined;
  ADMIN_PHONE?: string | undefined;
}

const email = z
  .email({ error: 'must be an e-mail address such as admin@example.com' })
  // SES compares the recipient with the stack's alertRecipients patterns case-sensitively; domains are not.
  .transform((address) => address.replace(/@[^@]+$/, (domain) => domain.toLowerCase()));

const phone = z.string().transform((value, ctx) => {
  try {
    return normalisePhone(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a phone number in international format, e.g. +22370702150' });
    return z.NEVER;
  }
});

const FIELDS = { email, phone } as const;

/**
 * The contacts, from the secret when ADMIN_CONTACTS_SECRET_ARN is set (re-read after ADMIN_CONTACTS_MAX_AGE_SECONDS),
 * from ADMIN_EMAIL / ADMIN_PHONE otherwise. A failed read keeps the contacts read before, if any.
 */
export function adminContactsLoader(
  config: AdminContactsConfig,
  secrets: () => SecretsManagerClient,
  log: Log = silentLog,
): AdminContactsSource {
  const secretId = config.ADMIN_CONTACTS_SECRET_ARN;
  if (!secretId) {
    const fixed: AdminContacts = {
      ...(config.ADMIN_EMAIL ? { email: config.ADMIN_EMAIL } : {}),
      ...(config.ADMIN_PHONE ? { phone: config.ADMIN_PHONE } : {}),
    };
    return async () => fixed;
  }
  let provider: SecretsProvider | undefined;
  let lastGood: AdminContacts | undefined;

  return async () => {
    provider ??= new SecretsProvider({ awsSdkV3Client: secrets() });
    let value: unknown;
    try {
      // Powertools caches only successful reads, so a failure is retried by the next call.
      value = await provider.get(secretId, { maxAge: config.ADMIN_CONTACTS_MAX_AGE_SECONDS });
    } catch (error) {
      const reason = awsErrorName(error);
      if (lastGood) {
        log.warn('admin-contacts secret could not be re-read; keeping the contacts read before', { error: reason });
        return lastGood;
      }
      const problem = `the admin-contacts secret could not be read (${reason})`;
      log.error('admin-contacts secret unreadable: alerts cannot be addressed', { problems: [problem] });
      return { problems: [problem] };
    }
    const contacts = parseAdminContacts(value);
    if (contacts.problems) {
      log.error('admin-contacts secret malformed: alerts for the channel concerned are skipped', {
        problems: contacts.problems,
      });
    }
    lastGood = contacts;
    return contacts;
  };
}

/** The secret's text to contacts; each problem names its field, never its value (it may be the address itself). */
export function parseAdminContacts(value: unknown): AdminContacts {
  if (typeof value !== 'string') return { problems: [`the admin-contacts secret has no SecretString: ${EXPECTED}`] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse's message quotes its input: it is left out.
    return { problems: [`the admin-contacts secret is not JSON: ${EXPECTED}`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { problems: [`the admin-contacts secret is not a JSON object: ${EXPECTED}`] };
  }
  const contacts: AdminContacts = {};
  const problems: string[] = [];
  for (const [field, schema] of Object.entries(FIELDS) as [keyof typeof FIELDS, z.ZodType<string, unknown>][]) {
    const raw = (parsed as Record<string, unknown>)[field];
    // An absent or empty field: that channel has nobody to tell (the health check reports it not configured).
    if (raw === undefined || raw === null || raw === '') continue;
    if (raw === ADMIN_CONTACTS_PLACEHOLDER) {
      problems.push(
        `${field}: still the placeholder ${ADMIN_CONTACTS_PLACEHOLDER}; put the admin's ${field} in the secret`,
      );
      continue;
    }
    if (typeof raw !== 'string') {
      problems.push(`${field}: must be a string`);
      continue;
    }
    const result = schema.safeParse(raw.trim());
    if (result.success) contacts[field] = result.data;
    else problems.push(`${field}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
  return problems.length > 0 ? { ...contacts, problems } : contacts;
}
