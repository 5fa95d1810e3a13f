// The send queue's settings, shared by the CDK stack and the local stack so both behave alike.

/** The sender Lambda's timeout. */
export const SENDER_TIMEOUT_SECONDS = 60;
/** AWS's advice for an SQS event source: at least six times the function timeout. */
export const SEND_QUEUE_VISIBILITY_SECONDS = 6 * SENDER_TIMEOUT_SECONDS;
/** Receives before a message goes to the dead-letter queue. */
export const SEND_QUEUE_MAX_RECEIVE_COUNT = 5;
export const SEND_DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
/** Lambda's SQS event source batch size. */
export const SEND_BATCH_SIZE = 10;
/**
 * The priority lane's: one OTP per invocation, so that a burst is shared by the lane's instances at once rather
 * than queued behind one instance's pace.
 */
export const PRIORITY_SEND_BATCH_SIZE = 1;
