/**
 * Bundle-time replacement for `debug` (aliased in .projenrc.ts): follow-redirects and
 * agent-base (axios's Node adapter) only use it for DEBUG=… tracing, which the Lambda never
 * enables; the handler has its own redacting logger.
 */
export default function debug(_namespace: string): (...args: unknown[]) => void {
  return () => undefined;
}
