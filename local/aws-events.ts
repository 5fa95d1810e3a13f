// The events and context AWS hands to our functions, built as AWS builds them (local stack and tests).
import type { APIGatewayProxyEvent, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { API_VERSION_PATH } from '../functions/catalog.js';

/**
 * A context as Lambda gives it: `getRemainingTimeInMillis` counts down from the call to the function's timeout
 * (30 s unless given), on `now` (the wall clock unless given, e.g. a test's virtual clock).
 */
/**
 * A Lambda context. `instance` names the execution environment (Lambda gives each its own log stream): the local
 * event source gives each poller its own, as Lambda runs each concurrent batch in an instance of its own.
 */
export function lambdaContext(
  functionName: string,
  options: { timeoutMs?: number; now?: () => number; instance?: string } = {},
): Context {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.timeoutMs ?? 30_000);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: options.instance ?? 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The id API Gateway gives the local door's API key (requestContext.identity.apiKeyId): the local caller. */
export const LOCAL_API_KEY_ID = 'local-key';

export interface ApiRequest {
  method?: string;
  path?: string;
  /** The API Gateway resource the path matched, e.g. /notifications/{id}. */
  resource?: string;
  /** What the resource's {params} matched; API Gateway sends null when it has none. */
  pathParameters?: Record<string, string>;
  body?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  isBase64Encoded?: boolean;
  sourceIp?: string;
  apiKey?: string;
  /** The API key's id (API Gateway's identity.apiKeyId): `local-key` for the local stack's key by default. */
  apiKeyId?: string;
  /**
   * What precedes the path in the caller's URL (requestContext.path): the stage on AWS's execute-api domain, `/local`
   * unless given; '' for the local door, whose URLs have no stage (as a custom domain's).
   */
  basePath?: string;
  /** Who signed the request, on a route with IAM authorization (API Gateway's verified SigV4 caller). */
  caller?: { accessKey: string; accountId: string; userArn: string; caller: string; user: string };
}

/** An API Gateway REST (v1) proxy event, as API Gateway builds it. */

export function apiEvent(input: ApiRequest): APIGatewayProxyEvent {
  const headers = input.headers ?? { 'Content-Type': 'application/json' };
  const method = input.method ?? 'POST';
  const path = input.path ?? `${API_VERSION_PATH}/notifications`;
  const query = input.query && Object.keys(input.query).length > 0 ? input.query : null;
  return {
    resource: input.resource ?? path,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query && Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: input.pathParameters && Object.keys(input.pathParameters).length > 0 ? input.pathParameters : null,
    stageVariables: null,
    body: input.body ?? null,
    isBase64Encoded: input.isBase64Encoded ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: input.caller?.accessKey ?? null,
        accountId: input.caller?.accountId ?? null,
        apiKey: input.apiKey ?? null,
        apiKeyId: input.apiKey ? (input.apiKeyId ?? LOCAL_API_KEY_ID) : null,
        caller: input.caller?.caller ?? null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.sourceIp ?? '127.0.0.1',
        user: input.caller?.user ?? null,
        userAgent: headers['user-agent'] ?? headers['User-Agent'] ?? null,
        userArn: input.caller?.userArn ?? null,
      },
      path: `${input.basePath ?? '/local'}${path}`,
      stage: 'local',
      requestId: crypto.randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: input.resource ?? path,
    },
  };
}

export function sqsRecord(body: string, queueArn = 'arn:aws:sqs:us-east-1:000000000000:send'): SQSRecord {
  return {
    messageId: crypto.randomUUID(),
    receiptHandle: crypto.randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

export const sqsEvent = (bodies: string[]): SQSEvent => ({ Records: bodies.map((body) => sqsRecord(body)) });
