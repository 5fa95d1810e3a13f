// A gateway response's mapping template as API Gateway renders it for a request: the few VTL expressions
// shared/http/gateway-problems.ts writes, substituted as API Gateway substitutes them.

/** Java's StringEscapeUtils.escapeJavaScript, as $util.escapeJavaScript applies it. */
const escapeJavaScript = (text: string) => text.replace(/[\\"'/]/g, (c) => `\\${c}`);

export function renderGatewayTemplate(
  template: string,
  request: { message: string; path: string; requestId: string },
): string {
  return template
    .replaceAll('$context.error.messageString', JSON.stringify(request.message))
    .replaceAll(
      `$util.escapeJavaScript($context.path).replaceAll("\\\\'","'")`,
      escapeJavaScript(request.path).replaceAll("\\'", "'"),
    )
    .replaceAll('$context.requestId', request.requestId);
}
