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

/** The callback dispatcher's timeout: a batch's POSTs run at once, each given CALLBACK_TIMEOUT_MS (5 s). */
export const CALLBACK_DISPATCHER_TIMEOUT_SECONDS = 30;
/** AWS's advice for an SQS event source, as for the send queues. */
export const CALLBACK_QUEUE_VISIBILITY_SECONDS = 6 * CALLBACK_DISPATCHER_TIMEOUT_SECONDS;
/**
 * Receives before SQS moves a callback message to its DLQ by itself: only when the dispatcher cannot even queue the
 * next step (a retry, a DLQ copy). A receiver's failures never count here: each retry is a new message.
 */
export const CALLBACK_QUEUE_MAX_RECEIVE_COUNT = 5;
export const CALLBACK_BATCH_SIZE = 10;
/** How many dispatcher instances may POST at once: a flood of callbacks must not look like an attack on a receiver. */
export const CALLBACK_DISPATCHER_MAX_CONCURRENCY = 2;
