// A gateway response's mapping template as API Gateway renders it for a request. Such a template is not run by the
// VTL engine: API Gateway only substitutes simple variables, so that is all this does (and anything else is left
// as written, to fail the JSON parse in the tests).

/** The variables a template may hold, and nothing but them: `$context.…` names, no `$util`, no `#` directive. */
export const TEMPLATE_VARIABLE = /\$context\.[A-Za-z.]+/g;

export function renderGatewayTemplate(
  template: string,
  request: { message: string; path: string; requestId: string },
): string {
  return template
    .replaceAll('$context.error.messageString', JSON.stringify(request.message))
    .replaceAll('$context.path', request.path)
    .replaceAll('$context.requestId', request.requestId);
}
