// Reading WaChap's answers: a 200 is not a send until its body says so, its body varies between API versions
// (every field optional, a field of an unexpected type dropped), and an error's text is kept for the classifier.
import * as z from 'zod';
import { parseRetryAfter } from '../../domain/retry-after.js';
import type { WaChapError } from './client.js';

/** Error texts are cut to this length (after redaction: a cut token would not match). */
const MAX_MESSAGE_LENGTH = 200;

// WaChap's answers vary between versions, so every field is optional and a field of an unexpected type is dropped
// rather than failing the whole body.
const text = z.string().optional().catch(undefined);
const providerId = z.union([z.string(), z.number()]).transform(String).optional().catch(undefined);
const applicationStatus = z.union([z.string(), z.number(), z.boolean()]).optional().catch(undefined);
const withId = z.looseObject({ id: providerId }).optional().catch(undefined);

const NestedMessageSchema = z.looseObject({ status: applicationStatus, message: text, key: withId });

const WaChapResponseSchema = z.looseObject({
  status: applicationStatus,
  message: z.union([z.string(), NestedMessageSchema]).optional().catch(undefined),
  error: z
    .union([z.string(), z.boolean(), z.looseObject({ message: text })])
    .optional()
    .catch(undefined),
  id: providerId,
  message_id: providerId,
  key: withId,
  data: withId,
});

type WaChapResponse = z.infer<typeof WaChapResponseSchema>;

export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: string;
}

export function readSendResponse(
  answer: HttpAnswer,
): { ok: true; messageId?: string; httpStatus: number } | WaChapError {
  if (answer.status < 200 || answer.status > 299) return httpError(answer);

  // A 200 is not a send: only the application status in the body says whether WaChap accepted the message.
  const json = parseJson(answer.body);
  if (json === undefined) {
    const summary = summariseBody(answer.body);
    return invalidResponse(
      answer.status,
      summary ? `WaChap answered a non-JSON body: ${summary}` : 'WaChap answered an empty body',
    );
  }
  const parsed = WaChapResponseSchema.safeParse(json);
  if (!parsed.success) return invalidResponse(answer.status, 'WaChap answered JSON that is not an object');

  const response = parsed.data;
  const verdict = applicationVerdict(response);
  if (verdict === 'success') return { ok: true, messageId: messageIdOf(response), httpStatus: answer.status };
  if (verdict === 'failure') {
    return {
      type: 'application_error',
      message: providerReason(response) ?? 'WaChap reported a failure without a reason',
      httpStatus: answer.status,
    };
  }
  return invalidResponse(answer.status, 'WaChap answered JSON without a recognisable status');
}

/** An explicit status wins (top level or nested under `message`); otherwise a bare `error` field means failure. */
function applicationVerdict(response: WaChapResponse): 'success' | 'failure' | undefined {
  const nested = typeof response.message === 'object' ? response.message.status : undefined;
  const verdicts = [statusVerdict(response.status), statusVerdict(nested)];
  if (verdicts.includes('failure')) return 'failure';
  if (verdicts.includes('success')) return 'success';
  return hasErrorField(response) ? 'failure' : undefined;
}

/** An explicit application error in a 200 answer of get_qrcode; any other body counts as connected. */
export function connectionRefusal(answer: HttpAnswer): WaChapError | undefined {
  const json = parseJson(answer.body);
  const parsed = json === undefined ? undefined : WaChapResponseSchema.safeParse(json);
  if (!parsed?.success || applicationVerdict(parsed.data) !== 'failure') return undefined;
  return {
    type: 'application_error',
    httpStatus: 200,
    message: truncate(providerReason(parsed.data) ?? 'connection check refused'),
  };
}

function hasErrorField({ error }: WaChapResponse): boolean {
  return error === true || typeof error === 'object' || (typeof error === 'string' && error.trim() !== '');
}

function statusVerdict(status: string | number | boolean | undefined): 'success' | 'failure' | undefined {
  if (status === undefined || status === true) return undefined;
  if (status === false) return 'failure';
  const value = String(status).trim().toLowerCase();
  if (value === 'success') return 'success';
  if (['error', 'failed', 'failure', 'fail', 'false'].includes(value)) return 'failure';
  // The v1 API puts an HTTP-like code in the body: {"status": 200, "message_id": ...}, sometimes as a string.
  if (/^\d{3}$/.test(value)) return value.startsWith('2') ? 'success' : 'failure';
  return undefined;
}

function messageIdOf(response: WaChapResponse): string | undefined {
  const nestedKey = typeof response.message === 'object' ? response.message.key?.id : undefined;
  const candidates = [response.message_id, response.id, nestedKey, response.key?.id, response.data?.id];
  return candidates.find((id) => id !== undefined && id.trim() !== '');
}

function providerReason(response: WaChapResponse): string | undefined {
  const { message, error } = response;
  const candidates = [
    typeof message === 'string' ? message : message?.message,
    typeof error === 'string' ? error : typeof error === 'object' ? error.message : undefined,
  ];
  return candidates.find((reason) => reason !== undefined && reason.trim() !== '')?.trim();
}

export function httpError(answer: HttpAnswer): WaChapError {
  const json = parseJson(answer.body);
  const parsed = json === undefined ? undefined : WaChapResponseSchema.safeParse(json);
  const reason = parsed?.success ? providerReason(parsed.data) : undefined;
  const error: WaChapError = {
    type: 'http_error',
    message: reason ?? (summariseBody(answer.body) || `HTTP ${answer.status}`),
    httpStatus: answer.status,
  };
  const retryAfterSeconds = parseRetryAfter(answer.headers.get('retry-after'));
  if (retryAfterSeconds !== undefined) error.retryAfterSeconds = retryAfterSeconds;
  return error;
}

export function invalidResponse(httpStatus: number, message: string): WaChapError {
  return { type: 'invalid_response', message, httpStatus };
}

export function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Proxies answer HTML pages: keep their text, not their markup. Truncated only after redaction (a cut token would not match). */
export function summariseBody(body: string): string {
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function truncate(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : message;
}
