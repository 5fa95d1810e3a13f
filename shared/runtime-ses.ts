// SES's client, for the functions that send email (alerts, the email channel): apart from runtime.ts so that the
// others do not carry it.
import { SESClient } from '@aws-sdk/client-ses';
import { recordAwsCalls } from './observability/aws-calls.js';

export const sesClient = (): SESClient => recordAwsCalls(new SESClient({}));
