// A Lambda Invoke API door: `aws lambda invoke --endpoint-url …` and the SDK's InvokeCommand work
// against it as against AWS (POST /2015-03-31/functions/{name}/invocations).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lambdaContext } from '../aws-events.js';
import { type FunctionRegistry, isFunctionName } from '../functions.js';
import { BodyTooLargeError, listen, type RunningServer, readBody, sendJson } from './http.js';

/** Lambda's synchronous payload limit. */
const MAX_PAYLOAD = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

/** Accepts a name, a partial ARN or a full ARN, as Lambda does. */
function functionNameOf(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Malformed percent-encoding ('%a'): no function has that name; a 404, not a 500.
    return raw;
  }
  const match = /(?:^|:function:)([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(decoded);
  return match?.[1] ?? decoded;
}

function awsError(response: ServerResponse, status: number, type: string, message: string) {
  sendJson(response, status, { Type: 'User', message }, { 'x-amzn-errortype': type });
}

export async function startLambdaInvoke(options: {
  port: number;
  functions: FunctionRegistry;
}): Promise<RunningServer> {
  return listen(options.port, async (request: IncomingMessage, response: ServerResponse) => {
    // The request target is a path: read against a base, '//' would be a host (and throw: a 500).
    const target = request.url?.startsWith('/') ? request.url : '/';
    const match = INVOKE_PATH.exec(new URL(`http://localhost${target}`).pathname);
    if (request.method !== 'POST' || !match) {
      awsError(response, 404, 'UnknownOperationException', 'Unknown operation');
      return;
    }
    const name = functionNameOf(match[1]!);
    if (!isFunctionName(name)) {
      awsError(response, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
      return;
    }
    let payload: unknown = {};
    try {
      const raw = await readBody(request, MAX_PAYLOAD);
      if (raw.length > 0) payload = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        awsError(response, 413, 'RequestTooLargeException', 'Request must be smaller than 6291456 bytes');
      else awsError(response, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
      return;
    }
    const context = lambdaContext(name);
    const run = () => options.functions[name](payload, context);
    const headers = { 'x-amz-executed-version': '$LATEST', 'x-amzn-requestid': context.awsRequestId };
    if (request.headers['x-amz-invocation-type'] === 'Event') {
      run().catch((error: unknown) => console.error(`${name} (async invoke) failed:`, error));
      response.writeHead(202, headers);
      response.end();
      return;
    }
    try {
      const result = await run();
      sendJson(response, 200, result ?? null, headers);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      sendJson(
        response,
        200,
        { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') },
        { ...headers, 'x-amz-function-error': 'Unhandled' },
      );
    }
  });
}
