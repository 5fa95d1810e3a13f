// Classifies a failed SES SendEmail the way classifyWaChapError classifies WaChap's, into the same verdict, so that
// the sender acts on an email failure exactly as on a WhatsApp one.
import type { FailureVerdict } from './error-classifier.js';

export interface EmailFailure {
  /** The SES error's name (Throttling, MessageRejected…), or timeout / network_error / invalid_address. */
  type: string;
  message: string;
  httpStatus?: number;
}

/** SES refuses this message or this address: sending it again cannot help. */
const RECIPIENT_ERRORS = ['MessageRejected', 'InvalidParameterValue', 'invalid_address'];
/** SES is busy or briefly away: the backoff helps. */
const THROTTLING_ERRORS = [
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'InternalFailure',
];

export function classifySesError(failure: EmailFailure): FailureVerdict {
  if (RECIPIENT_ERRORS.includes(failure.type)) {
    return {
      action: 'give_up',
      classification: 'permanent',
      scope: 'recipient',
      recommendation: "SES refused the recipient's address or the message: check the address the caller gave.",
    };
  }
  const busy =
    THROTTLING_ERRORS.includes(failure.type) ||
    (failure.httpStatus !== undefined && (failure.httpStatus === 429 || failure.httpStatus >= 500));
  // Anything else (our account paused, an identity not verified, a network error) is ours to fix and not the
  // recipient's: it is retried with the backoff, and never opens the WhatsApp provider's circuit.
  return {
    action: 'retry',
    classification: 'temporary',
    scope: 'transient',
    recommendation: busy
      ? 'SES is throttling or unavailable; retried automatically with backoff.'
      : 'SES refused the send for our account or identity (verification, sending paused, permissions): check SES in the console; retried with backoff.',
  };
}
