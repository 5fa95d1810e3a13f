// The local stack builds the events AWS would send; the tests use the same builders.
export { apiEvent, lambdaContext, sqsEvent, sqsRecord } from '../../local/aws-events.js';
