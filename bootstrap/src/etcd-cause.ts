// Why a read from etcd failed, named the way an SA looks for it: DNS, connection refused, no answer (timeout), TLS,
// etcd authentication, or a path that does not carry gRPC. The raw error follows the name, clipped.
import { clip } from './json-value.js';

/** The read's own timer, so that a timeout reads as one whatever client noticed it. */
export class NoAnswer extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatSeconds(timeoutMs)}`);
    this.name = 'NoAnswer';
  }
}

export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|EPROTO$)/;
const TLS_TEXT = /\bTLS\b|\bSSL\b|certificate|handshake/i;
/** A client's own error text as a cause quotes it: one line (OpenSSL's end in a newline), clipped. */
function raw(message: string): string {
  return clip(message.replace(/\s+/g, ' ').trim(), 300);
}

/**
 * A reset before any answer, over https, is what a plain-HTTP server does to a TLS client hello; whether the client
 * noticed it inside the handshake (and says "TLS") or on its next read (a bare "read ECONNRESET") is a race.
 */
function resetOverTls(message: string): string {
  return `TLS: the server hung up during the TLS handshake; is it serving plain HTTP? (${raw(message)})`;
}

/** A failure of an HTTP request (the v2 API, /version) to `host`; `overTls` when the endpoint is https. */
export function describeHttpFailure(err: unknown, host: string, overTls: boolean): string {
  if (err instanceof NoAnswer) return err.message;
  const { code, message } = err as NodeJS.ErrnoException;
  switch (code) {
    case 'ENOTFOUND':
      return `DNS: ${host} does not resolve (${code})`;
    case 'EAI_AGAIN':
      return `DNS: no answer looking up ${host} (${code})`;
    case 'ECONNREFUSED':
      return `connection refused (${code})`;
    case 'ECONNRESET':
      if (overTls) return resetOverTls(message);
      return TLS_TEXT.test(message) ? `TLS: ${raw(message)}` : `connection reset by the server (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${host} (${code})`;
    default:
      if (code !== undefined && TLS_CODE.test(code)) return `TLS: ${raw(message)} (${code})`;
      return raw(message);
  }
}

/** A failure of a v3 (gRPC) call through the etcd3 client; grpc-js says what happened in its message only. */
export function describeGrpcFailure(err: unknown, host: string, timeoutMs: number, overTls: boolean): string {
  // "14 UNAVAILABLE: No connection established. Last error: Error: <what happened>. Resolution note: "
  const full = (err as Error).message;
  const message = /Last error: (?:Error: )?(?<last>.*?)(?:\. Resolution note:.*)?$/s.exec(full)?.groups?.last ?? full;
  if (/Name resolution failed/.test(message)) return `DNS: ${host} does not resolve (${raw(message)})`;
  if (/ECONNREFUSED/.test(message)) return 'connection refused (ECONNREFUSED)';
  if (/DEADLINE_EXCEEDED|Deadline exceeded/.test(message)) return `no answer within ${formatSeconds(timeoutMs)}`;
  if (/user name is empty|authentication failed|invalid auth token|permission denied|UNAUTHENTICATED|PERMISSION_DENIED/.test(message)) {
    return `etcd authentication: etcd refused the read (${raw(message)}); set ETCD_USERNAME and ETCD_PASSWORD to an etcd user that may read /lain/config/`;
  }
  if (/Protocol error|Received HTTP status code|Received RST_STREAM/.test(message)) {
    return `gRPC refused: the server or a proxy in front of it does not carry gRPC (HTTP/2), which etcd's v3 API needs (${raw(message)})`;
  }
  if (TLS_TEXT.test(message)) return `TLS: ${raw(message)}`;
  if (overTls && /ECONNRESET/.test(message)) return resetOverTls(message);
  return raw(message);
}
